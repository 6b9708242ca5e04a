//! Migrations are immutable (SPEC 6), against a real PostgreSQL: a database migrated
//! before `medforge update` changes the modules migrates after it, keeps its rows, and
//! ends with the schema a fresh project would have (an added module) or with the service
//! role's access revoked (a removed module, whose table and rows stay). sqlx-cli applies
//! the `.sql` files directly, so the generated service is never built here.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::postgres::Cluster;
use crate::support::project::json;
use crate::support::{BIN, code, generate, medforge, stderr};

const DATABASE: &str = "clinic_dev";

/// `medforge db TASK` in `project` against `cluster`, as the owner role.
fn db(cluster: &Cluster, project: &Path, task: &str) -> Output {
    Command::new(BIN)
        .args(["db", task, "--dir"])
        .arg(project)
        .env("ADMIN_DATABASE_URL", cluster.url("postgres"))
        .env(
            "MIGRATION_DATABASE_URL",
            format!(
                "postgres://clinic_owner@127.0.0.1:{}/{DATABASE}",
                cluster.port
            ),
        )
        .stdin(Stdio::null())
        .output()
        .expect("medforge runs")
}

fn set_modules(project: &Path, modules: &str) -> serde_json::Value {
    let set = format!("modules={modules}");
    let output = medforge(
        project,
        &["update", "--set", &set, "--allow-dirty", "--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    json(&output)
}

/// Rows the superuser adds (row-level security does not apply to it): a clinic, a
/// clinician and a patient, the records every clinical module refers to.
fn add_records(cluster: &Cluster) {
    cluster.psql(
        DATABASE,
        "INSERT INTO clinics (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Synthetic Clinic');
         INSERT INTO users (id, clinic_id, email, role, password_hash)
             VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001',
                     'clinician@example.test', 'clinician', 'x');
         INSERT INTO patients (id, clinic_id, mrn, given_name, family_name, date_of_birth,
                               mrn_index, name_dob_index)
             VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001',
                     '\\x00', '\\x00', '\\x00', '\\x00', decode(repeat('00', 32), 'hex'),
                     decode(repeat('00', 32), 'hex'));",
    );
}

fn count(cluster: &Cluster, table: &str) -> String {
    cluster.psql(DATABASE, &format!("SELECT count(*) FROM {table}"))
}

#[test]
fn adding_a_module_to_a_migrated_database_migrates_and_keeps_the_data() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(
        work.path(),
        "clinic",
        &["modules=patients,encounters,appointments"],
    );
    let cluster = Cluster::start();
    let output = db(&cluster, &project, "setup");
    assert_eq!(code(&output), 0, "db setup: {}", stderr(&output));
    add_records(&cluster);

    let report = set_modules(&project, "patients,encounters,appointments,notes");
    assert_eq!(
        report["migrations_withheld"],
        serde_json::json!([]),
        "{report:#}"
    );
    let output = db(&cluster, &project, "migrate");
    assert_eq!(code(&output), 0, "db migrate: {}", stderr(&output));

    assert_eq!(count(&cluster, "clinics"), "1");
    assert_eq!(count(&cluster, "patients"), "1");
    let notes = cluster.psql(
        DATABASE,
        "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = 'notes'",
    );
    assert_eq!(notes, "t", "notes has row-level security, forced");
    let policy = cluster.psql(
        DATABASE,
        "SELECT qual || ' ' || with_check FROM pg_policies WHERE tablename = 'notes'",
    );
    assert!(policy.contains("hidden_patients"), "{policy}");
    let grants = cluster.psql(
        DATABASE,
        "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type)
         FROM information_schema.role_table_grants
         WHERE table_name = 'notes' AND grantee = 'clinic_service'",
    );
    assert_eq!(grants, "INSERT,SELECT");

    // The project passes its own check, the recorded migrations included.
    let output = medforge(&project, &["check"]);
    assert_eq!(code(&output), 0, "{}", crate::support::stdout(&output));
}

#[test]
fn removing_a_module_keeps_its_table_and_rows_and_revokes_the_service_role() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let cluster = Cluster::start();
    let output = db(&cluster, &project, "setup");
    assert_eq!(code(&output), 0, "db setup: {}", stderr(&output));
    add_records(&cluster);
    cluster.psql(
        DATABASE,
        "INSERT INTO notes (id, clinic_id, patient_id, body, author_id)
         VALUES ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001',
                 '00000000-0000-4000-8000-000000000003', '\\x00',
                 '00000000-0000-4000-8000-000000000002')",
    );

    let report = set_modules(&project, "patients,encounters,appointments");
    assert_eq!(
        report["migrations_withheld"],
        serde_json::json!(["migrations/0103_notes.sql"]),
        "{report:#}"
    );
    assert!(project.join("migrations/0103_notes.sql").is_file());
    let output = db(&cluster, &project, "migrate");
    assert_eq!(code(&output), 0, "db migrate: {}", stderr(&output));

    assert_eq!(count(&cluster, "notes"), "1", "the rows are kept");
    let privileges = cluster.psql(
        DATABASE,
        "SELECT count(*) FROM information_schema.role_table_grants
         WHERE table_name = 'notes' AND grantee = 'clinic_service'",
    );
    assert_eq!(
        privileges, "0",
        "the service role has no privilege on notes"
    );
    let columns = cluster.psql(
        DATABASE,
        "SELECT count(*) FROM information_schema.column_privileges
         WHERE table_name = 'notes' AND grantee = 'clinic_service'",
    );
    assert_eq!(columns, "0", "nor on its columns");

    // Added back: the kept migration runs again, and the service role has its access.
    set_modules(&project, "patients,encounters,appointments,notes");
    let output = db(&cluster, &project, "migrate");
    assert_eq!(code(&output), 0, "db migrate: {}", stderr(&output));
    assert_eq!(count(&cluster, "notes"), "1");
    let grants = cluster.psql(
        DATABASE,
        "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type)
         FROM information_schema.role_table_grants
         WHERE table_name = 'notes' AND grantee = 'clinic_service'",
    );
    assert_eq!(grants, "INSERT,SELECT");
}

#[test]
fn a_revoke_for_a_module_the_database_never_had_is_skipped() {
    // The project never migrated notes: the revoke migration must still apply.
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    set_modules(&project, "patients");
    let cluster = Cluster::start();
    // Only the revoke and the core migrations: drop the kept module migrations first.
    for module in ["0101_encounters", "0102_appointments", "0103_notes"] {
        std::fs::remove_file(project.join(format!("migrations/{module}.sql"))).unwrap();
    }
    let output = db(&cluster, &project, "setup");
    assert_eq!(code(&output), 0, "db setup: {}", stderr(&output));
    let missing = cluster.psql(DATABASE, "SELECT to_regclass('public.notes') IS NULL");
    assert_eq!(missing, "t");
}
