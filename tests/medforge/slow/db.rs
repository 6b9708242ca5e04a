//! `medforge db` against a real PostgreSQL cluster: it sets up, migrates and resets the
//! database as its owner role.

use std::process::{Command, Stdio};

use crate::support::postgres::Cluster;
use crate::support::{BIN, code, generate, stderr};

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
