//! `medforge db` drives sqlx-cli in a generated project: without sqlx-cli, a URL it needs,
//! or outside a project it says what to do. Against a real PostgreSQL cluster: `slow::db`.

use std::process::{Command, Stdio};

use crate::support::{BIN, code, generate, medforge, stderr};

#[test]
fn db_outside_a_project_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(work.path(), &["db", "migrate"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("is not a medforge project"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_sqlx_cli_names_the_install_command() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    std::fs::create_dir_all(project.join("migrations")).unwrap();
    let empty_path = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["db", "setup"])
        .current_dir(&project)
        .env("PATH", empty_path.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.contains("sqlx-cli is not installed"), "{message}");
    assert!(
        message.contains("cargo install --locked sqlx-cli"),
        "{message}"
    );
}

#[test]
fn setup_without_an_admin_url_says_which_variable_is_missing() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let output = Command::new(BIN)
        .args(["db", "setup"])
        .current_dir(&project)
        .env_remove("ADMIN_DATABASE_URL")
        .env(
            "MIGRATION_DATABASE_URL",
            "postgres://clinic_owner@127.0.0.1:1/clinic_dev",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ADMIN_DATABASE_URL is not set"),
        "{}",
        stderr(&output)
    );
}
