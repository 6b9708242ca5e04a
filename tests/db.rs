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
fn setup_and_reset_build_the_database_as_its_owner() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let migrations = std::fs::read_dir(project.join("migrations"))
        .expect("the generated project has migrations")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert!(migrations > 0);

    let cluster = Cluster::start();
    let owner_url = format!(
        "postgres://clinic_owner@127.0.0.1:{}/clinic_dev",
        cluster.port
    );
    let run = |task: &str| {
        Command::new(BIN)
            .args(["db", task, "--dir"])
            .arg(&project)
            .env("ADMIN_DATABASE_URL", cluster.url("postgres"))
            .env("MIGRATION_DATABASE_URL", &owner_url)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for task in ["setup", "migrate", "reset"] {
        let output = run(task);
        assert_eq!(code(&output), 0, "db {task}: {}", stderr(&output));
        let applied = cluster.psql(
            "clinic_dev",
            "SELECT count(*) FROM _sqlx_migrations WHERE success",
        );
        assert_eq!(applied, migrations.to_string(), "after db {task}");
        let owner = cluster.psql(
            "postgres",
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'clinic_dev'",
        );
        assert_eq!(owner, "clinic_owner", "after db {task}");
    }
    // The service role exists and can bypass nothing.
    let service = cluster.psql(
        "postgres",
        "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = 'clinic_service'",
    );
    assert_eq!(service, "f");
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
