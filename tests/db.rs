//! `medforge db` drives sqlx-cli in a generated project: against a real PostgreSQL cluster
//! it migrates and resets; without sqlx-cli or outside a project it says what to do.

mod support;

use std::process::{Command, Stdio};

use support::postgres::Cluster;
use support::{BIN, code, generate, medforge, stderr};

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
fn setup_and_reset_run_the_migrations_on_a_real_database() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let migrations = std::fs::read_dir(project.join("migrations"))
        .expect("the generated project has migrations")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert!(migrations > 0);

    let cluster = Cluster::start();
    let run = |task: &str| {
        Command::new(BIN)
            .args(["db", task, "--dir"])
            .arg(&project)
            .env("MIGRATION_DATABASE_URL", cluster.url("clinic_dev"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for task in ["setup", "reset"] {
        let output = run(task);
        assert_eq!(code(&output), 0, "db {task}: {}", stderr(&output));
        let applied = cluster.psql(
            "clinic_dev",
            "SELECT count(*) FROM _sqlx_migrations WHERE success",
        );
        assert_eq!(applied, migrations.to_string(), "after db {task}");
    }
}
