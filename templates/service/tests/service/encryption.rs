//! Encryption at rest (HIPAA 164.312(a)(2)(iv)), each test named after the
//! threat it stops: a superuser or a stolen dump reading PHI, a ciphertext moved to
//! another row or column, a key change that loses data, a search that leaks near misses,
//! the key-encryption key ending up next to the data it protects.

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use ::service::auth::Role;
use ::service::config::{KEK_VARIABLE, PREVIOUS_KEK_VARIABLE};
use ::service::crypto::tenant_key;
use ::service::crypto::{Field, Kek, KekRing, Keyring};
use ::service::db;
use ::service::ids::to_uuid;
use uuid::Uuid;

use crate::support::{TestApp, TestDb, sqlstate};

/// Synthetic values, distinctive enough that finding them anywhere is a leak.
const GIVEN: &str = "Zebulonette";
const FAMILY: &str = "Quarksdottir";
const MRN: &str = "SYN-ENC-424242";
const PHONE: &str = "+41 00 000 00 00";
const BIRTH: &str = "1961-07-19";
const NOTE: &str = "Synthetic note: xylophonic dermatitis";

async fn clinician(app: &TestApp) -> String {
    let clinic = app.clinic("Synthetic Clinic").await;
    app.sign_in(&app.user(clinic, Role::Clinician).await).await
}

async fn create_patient(app: &TestApp, token: &str, mrn: &str, given: &str, birth: &str) -> String {
    let reply = app
        .call(
            Method::POST,
            "/patients",
            Some(token),
            Some(json!({
                "mrn": mrn,
                "given_name": given,
                "family_name": FAMILY,
                "date_of_birth": birth,
                "phone": PHONE,
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn read_patient(app: &TestApp, token: &str, id: &str) -> (StatusCode, Value) {
    let reply = app
        .call(Method::GET, &format!("/patients/{id}"), Some(token), None)
        .await;
    (reply.status, reply.body)
}

/// Every row of every table in the public schema, as text, read by a superuser: what a
/// database administrator, a dump or a backup shows.
async fn everything_a_superuser_sees(db: &TestDb) -> String {
    let mut admin = TestDb::connect(&db.admin).await;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut admin)
            .await
            .unwrap();
    let mut all = String::new();
    for table in tables {
        // The names come from the catalog, quoted: nothing from outside the test.
        let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT string_agg(row_to_json(t)::text, E'\\n') FROM \"{table}\" t"
        )))
        .fetch_one(&mut admin)
        .await
        .unwrap();
        all.push_str(&rows.unwrap_or_default());
        all.push('\n');
    }
    all
}

/// `text` as bytes in hex, the way bytea columns print.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test]
async fn a_superuser_reading_the_tables_sees_no_plaintext_phi() {
    let app = TestApp::new().await;
    let token = clinician(&app).await;
    let id = create_patient(&app, &token, MRN, GIVEN, BIRTH).await;
{%- if modules contains "notes" %}
    let note = app
        .call(
            Method::POST,
            "/notes",
            Some(&token),
            Some(json!({ "patient_id": id, "body": NOTE })),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{:?}", note.body);
{%- endif %}
    // The service reads it all back...
    let (status, patient) = read_patient(&app, &token, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patient["given_name"], json!(GIVEN));
    assert_eq!(patient["date_of_birth"], json!(BIRTH));

    // ...the database holds none of it, in any encoding.
    let seen = everything_a_superuser_sees(&app.db).await.to_lowercase();
    for secret in [GIVEN, FAMILY, MRN, PHONE, BIRTH, NOTE] {
        assert!(
            !seen.contains(&secret.to_lowercase()),
            "{secret} is in plaintext"
        );
        assert!(
            !seen.contains(&hex(secret.as_bytes())),
            "{secret} is in hex"
        );
    }
}

#[tokio::test]
async fn every_phi_column_holds_ciphertext_except_the_documented_times() {
    let columns = TestDb::new().await.phi_columns().await;
    assert!(!columns.is_empty());
    // Kept plaintext on purpose (lists and schedules are ordered by them; they name no
    // one without the encrypted identity): compliance/phi-inventory.md says so.
    let plaintext = [
        ("appointments", "ends_at"),
        ("appointments", "starts_at"),
        ("encounters", "class"),
        ("encounters", "ended_at"),
        ("encounters", "started_at"),
    ];
    for (table, column, data_type) in &columns {
        if plaintext.contains(&(table.as_str(), column.as_str())) {
            continue;
        }
        assert_eq!(
            data_type, "bytea",
            "{table}.{column} is PHI stored as {data_type}"
        );
    }
}

#[tokio::test]
async fn a_ciphertext_copied_into_another_row_or_column_fails_to_decrypt() {
    let app = TestApp::new().await;
    let token = clinician(&app).await;
    let victim = create_patient(&app, &token, "SYN-ENC-1", GIVEN, BIRTH).await;
    let other = create_patient(&app, &token, "SYN-ENC-2", "Otherperson", BIRTH).await;
    let mut admin = TestDb::connect(&app.db.admin).await;

    // Another row: the victim's name pasted into the other patient's record.
    sqlx::query(
        "UPDATE patients SET given_name = (SELECT given_name FROM patients WHERE id = $1::uuid)
         WHERE id = $2::uuid",
    )
    .bind(&victim)
    .bind(&other)
    .execute(&mut admin)
    .await
    .unwrap();
    let (status, body) = read_patient(&app, &token, &other).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({ "error": "internal_error" }));

    // Another column of the same row: the given name served as the family name.
    let (status, _) = read_patient(&app, &token, &victim).await;
    assert_eq!(status, StatusCode::OK);
    sqlx::query("UPDATE patients SET family_name = given_name WHERE id = $1::uuid")
        .bind(&victim)
        .execute(&mut admin)
        .await
        .unwrap();
    let (status, body) = read_patient(&app, &token, &victim).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains(GIVEN));
}

#[tokio::test]
async fn blind_index_search_finds_exact_matches_only() {
    let app = TestApp::new().await;
    let token = clinician(&app).await;
    let anna = create_patient(&app, &token, "SYN-ENC-1", "Anna", BIRTH).await;
    create_patient(&app, &token, "SYN-ENC-10", "Annabel", BIRTH).await;
    create_patient(&app, &token, "SYN-ENC-100", "Anna", "1961-07-20").await;
    let search = |body: Value| {
        let app = &app;
        let token = &token;
        async move {
            let reply = app
                .call(Method::POST, "/patients/search", Some(token), Some(body))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
            reply
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|patient| patient["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let by_name = |given: &str, family: &str, birth: &str| json!({ "given_name": given, "family_name": family, "date_of_birth": birth });

    assert_eq!(search(json!({ "mrn": "SYN-ENC-1" })).await, [anna.as_str()]);
    assert_eq!(
        search(json!({ "mrn": " SYN-ENC-1 " })).await,
        [anna.as_str()]
    );
    assert!(
        search(json!({ "mrn": "SYN-ENC" })).await.is_empty(),
        "no prefixes"
    );
    assert!(
        search(json!({ "mrn": "syn-enc-1" })).await.is_empty(),
        "record numbers are exact"
    );

    assert_eq!(
        search(by_name("Anna", FAMILY, BIRTH)).await,
        [anna.as_str()]
    );
    // Names match regardless of case and surrounding spaces, as before encryption.
    assert_eq!(
        search(by_name(" anna ", &FAMILY.to_uppercase(), BIRTH)).await,
        [anna.as_str()]
    );
    assert!(
        search(by_name("Ann", FAMILY, BIRTH)).await.is_empty(),
        "no prefixes"
    );
    assert!(
        search(by_name("Anna", FAMILY, "1961-07-21"))
            .await
            .is_empty()
    );
    assert!(search(by_name("Anna", "Quarks", BIRTH)).await.is_empty());

    // The index follows a change of name.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/patients/{anna}"),
            Some(&token),
            Some(json!({ "given_name": "Annika" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert!(search(by_name("Anna", FAMILY, BIRTH)).await.is_empty());
    assert_eq!(
        search(by_name("Annika", FAMILY, BIRTH)).await,
        [anna.as_str()]
    );
    // And a record number stays unique through its index.
    let duplicate = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(json!({
                "mrn": "SYN-ENC-1", "given_name": "X", "family_name": "Y",
                "date_of_birth": BIRTH,
            })),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_key_encryption_key_and_the_data_keys_are_never_in_the_database() {
    let mut app = TestApp::new().await;
    let kek = Kek::generate().unwrap();
    app.restart_with_keys(KekRing::single(kek.clone()));
    let token = clinician(&app).await;
    create_patient(&app, &token, MRN, GIVEN, BIRTH).await;

    let seen = everything_a_superuser_sees(&app.db).await;
    assert!(!seen.contains(&kek.to_base64()));
    // The data keys are there only wrapped: their raw bytes appear nowhere.
    let mut owner = TestDb::connect(&app.db.owner).await;
    let keyring = Keyring::new(KekRing::single(kek));
    let clinics = tenant_key::clinics(&mut owner).await.unwrap();
    assert_eq!(clinics.len(), 1);
    let stored = tenant_key::of_clinic(&mut owner, clinics[0]).await.unwrap();
    assert_eq!(stored.len(), 2, "one data key and one blind-index key");
    for key in &stored {
        let raw = keyring.unwrap(key).unwrap();
        assert!(!seen.contains(&hex(raw.as_slice())));
    }
}

#[tokio::test]
async fn a_first_key_whose_transaction_rolled_back_never_seals_a_value() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let keyring = &app.state.keyring;
    // A request makes the clinic's first keys in its transaction, then fails: the keys
    // roll back with it.
    let mut failed = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
    keyring
        .for_clinic(&mut failed, to_uuid(clinic))
        .await
        .unwrap();
    failed.rollback().await.unwrap();
    // The next request must not seal with them from memory: its keys commit with its value.
    let mut next = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
    let keys = keyring
        .for_clinic(&mut next, to_uuid(clinic))
        .await
        .unwrap();
    let (field, row) = (Field::new("notes", "body"), Uuid::new_v4());
    let sealed = keys.seal_text(field, row, NOTE).unwrap();
    next.commit().await.unwrap();
    // Restarted, with only what the database holds, the value still opens.
    let restarted = Keyring::new(KekRing::single(Kek::development()));
    let mut tx = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
    let keys = restarted
        .for_clinic(&mut tx, to_uuid(clinic))
        .await
        .unwrap();
    assert_eq!(keys.open_text(field, row, &sealed).unwrap(), NOTE);
}

#[tokio::test]
async fn the_service_role_cannot_replace_or_remove_a_key() {
    let app = TestApp::new().await;
    let token = clinician(&app).await;
    create_patient(&app, &token, MRN, GIVEN, BIRTH).await;
    let mut service = TestDb::connect(&app.db.service).await;
    for statement in [
        "UPDATE tenant_keys SET kek_id = '0000000000000000'",
        "DELETE FROM tenant_keys",
        "TRUNCATE tenant_keys",
    ] {
        let error = sqlx::query(statement)
            .execute(&mut service)
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&error), "42501", "{statement}");
    }
}

/// The key-encryption key variables for `kek`, as the key provider passes them to a
/// command; files are removed when the returned guard drops.
struct ProvidedKeys {
    vars: Vec<(&'static str, String)>,
    files: Vec<PathBuf>,
}

impl Drop for ProvidedKeys {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

fn provide(keys: &[(&'static str, &Kek)]) -> ProvidedKeys {
    let mut provided = ProvidedKeys {
        vars: Vec::new(),
        files: Vec::new(),
    };
    for (name, kek) in keys {
{%- if key_provider == "file" %}
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("kek-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, kek.to_base64()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        provided.vars.push((name, path.display().to_string()));
        provided.files.push(path);
{%- else %}
        provided.vars.push((name, kek.to_base64()));
{%- endif %}
    }
    provided
}

/// Runs `rotate-keys` as an operator would, and returns its JSON report.
fn rotate_keys(db: &TestDb, keys: &ProvidedKeys, extra: &[&str]) -> Value {
    let output = std::process::Command::new(crate::support::binary())
        .arg("rotate-keys")
        .args(extra)
        .env("MIGRATION_DATABASE_URL", &db.owner_url)
        .env_remove(KEK_VARIABLE)
        .env_remove(PREVIOUS_KEK_VARIABLE)
        .envs(keys.vars.iter().map(|(name, value)| (name, value)))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn rotate_keys_rewraps_the_data_keys_and_every_record_still_reads() {
    let mut app = TestApp::new().await;
    let old = Kek::generate().unwrap();
    let new = Kek::generate().unwrap();
    app.restart_with_keys(KekRing::single(old.clone()));
    let token = clinician(&app).await;
    let mut patients = Vec::new();
    for n in 0..5 {
        patients.push(create_patient(&app, &token, &format!("SYN-ENC-{n}"), GIVEN, BIRTH).await);
    }

    // Step 1: the service runs with the new key current and the old one previous, and
    // keeps serving throughout the rotation.
    app.restart_with_keys(KekRing {
        current: new.clone(),
        previous: Some(old.clone()),
    });
    // Step 2: the operator rotates.
    let during = provide(&[(KEK_VARIABLE, &new), (PREVIOUS_KEK_VARIABLE, &old)]);
    let report = rotate_keys(&app.db, &during, &[]);
    assert_eq!(report["clinics"], json!(1));
    assert_eq!(report["rewrapped"], json!(2), "{report}");
    assert_eq!(report["kek_id"], json!(new.id()));
    for id in &patients {
        assert_eq!(read_patient(&app, &token, id).await.0, StatusCode::OK);
    }
    // Running it again finds nothing left to do.
    let again = rotate_keys(&app.db, &during, &[]);
    assert_eq!(again["rewrapped"], json!(0));
    assert_eq!(again["already_current"], json!(2));

    // Step 3: the old key is gone; everything reads with the new one alone...
    app.restart_with_keys(KekRing::single(new.clone()));
    for id in &patients {
        let (status, patient) = read_patient(&app, &token, id).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(patient["given_name"], json!(GIVEN));
    }
    // ...and nothing opens with the old one alone: the keys really moved.
    app.restart_with_keys(KekRing::single(old));
    assert_eq!(
        read_patient(&app, &token, &patients[0]).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    // A new data key version seals new values; the old values keep their version.
    let after = provide(&[(KEK_VARIABLE, &new)]);
    let report = rotate_keys(&app.db, &after, &["--new-data-key"]);
    assert_eq!(report["data_keys_added"], json!(1));
    app.restart_with_keys(KekRing::single(new));
    let newer = create_patient(&app, &token, "SYN-ENC-NEW", GIVEN, BIRTH).await;
    let mut admin = TestDb::connect(&app.db.admin).await;
    let versions: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT substring(given_name from 2 for 4) FROM patients ORDER BY id = $1::uuid",
    )
    .bind(&newer)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(versions.last().unwrap(), &[0, 0, 0, 2]);
    assert!(
        versions[..versions.len() - 1]
            .iter()
            .all(|version| version == &[0, 0, 0, 1])
    );
    for id in patients.iter().chain([&newer]) {
        assert_eq!(read_patient(&app, &token, id).await.0, StatusCode::OK);
    }
    admin.close().await.unwrap();
}

#[tokio::test]
async fn rotate_keys_without_the_key_that_wrapped_them_changes_nothing() {
    let mut app = TestApp::new().await;
    let old = Kek::generate().unwrap();
    app.restart_with_keys(KekRing::single(old.clone()));
    let token = clinician(&app).await;
    let id = create_patient(&app, &token, MRN, GIVEN, BIRTH).await;

    // The operator forgets the previous key: the command fails, nothing is re-wrapped.
    let unrelated = provide(&[(KEK_VARIABLE, &Kek::generate().unwrap())]);
    let output = std::process::Command::new(crate::support::binary())
        .arg("rotate-keys")
        .env("MIGRATION_DATABASE_URL", &app.db.owner_url)
        .env_remove(KEK_VARIABLE)
        .env_remove(PREVIOUS_KEK_VARIABLE)
        .envs(unrelated.vars.iter().map(|(name, value)| (name, value)))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("previous key"), "{stderr}");
    assert_eq!(read_patient(&app, &token, &id).await.0, StatusCode::OK);
}
