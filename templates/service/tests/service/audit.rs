//! The audit trail (HIPAA 164.312(b) audit controls, 164.312(c)(1)
//! integrity): every access leaves an event written in its own transaction, nobody can
//! change the events unnoticed, and only auditors read them.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::Row;

use ::service::auth::Role;
use ::service::db::{self, OWNER_ROLE, SERVICE_ROLE};

use crate::support::{LOOPBACK, TestApp, TestDb, sqlstate};

/// One stored event, as a superuser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    seq: i64,
    id: String,
    actor: Option<String>,
    action: String,
    resource_type: Option<String>,
    resource_id: Option<String>,
    outcome: String,
}

async fn events(app: &TestApp) -> Vec<Stored> {
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query(
        "SELECT seq, id::text, actor_user_id::text, action, resource_type, resource_id::text,
                outcome
         FROM audit_events ORDER BY clinic_id, seq",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .into_iter()
    .map(|row| Stored {
        seq: row.get(0),
        id: row.get(1),
        actor: row.get(2),
        action: row.get(3),
        resource_type: row.get(4),
        resource_id: row.get(5),
        outcome: row.get(6),
    })
    .collect()
}

fn has(events: &[Stored], action: &str, resource_id: Option<&str>, outcome: &str) -> bool {
    events.iter().any(|event| {
        event.action == action
            && event.resource_id.as_deref() == resource_id
            && event.outcome == outcome
    })
}

#[tokio::test]
async fn every_phi_read_writes_an_audit_event() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.user(clinic, Role::Clinician).await;
    let token = app.sign_in(&clinician).await;
    let id = app.patient(&token, "SYN-AUD-000001").await;
    let item = format!("/patients/{id}");

    let read = app.call(Method::GET, &item, Some(&token), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let list = app.call(Method::GET, "/patients", Some(&token), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let search = app
        .call(
            Method::POST,
            "/patients/search",
            Some(&token),
            Some(json!({ "mrn": "SYN-AUD-000001" })),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK);
    let update = app
        .call(
            Method::PATCH,
            &item,
            Some(&token),
            Some(json!({ "phone": "+41 00 000 00 00" })),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK);
    let missing = "/patients/6f9619ff-8b86-d011-b42d-00c04fc964ff";
    let not_found = app.call(Method::GET, missing, Some(&token), None).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);

    let events = events(&app).await;
    let id = Some(id.as_str());
    assert!(has(&events, "create", id, "success"), "{events:#?}");
    // The single read and the list each record the patient they showed.
    let reads = events
        .iter()
        .filter(|event| event.action == "read" && event.resource_id.as_deref() == id)
        .count();
    assert_eq!(reads, 2, "{events:#?}");
    assert!(has(&events, "search", id, "success"), "{events:#?}");
    assert!(has(&events, "update", id, "success"), "{events:#?}");
    assert!(
        has(
            &events,
            "read",
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
            "failure"
        ),
        "a failed attempt is recorded too: {events:#?}"
    );
    for event in events
        .iter()
        .filter(|event| event.resource_type.as_deref() == Some("patients"))
    {
        assert_eq!(
            event.actor.as_deref(),
            Some(clinician.id.to_string().as_str())
        );
    }
    // Numbered without gaps.
    let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_refused_write_is_audited_as_a_failure() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let id = app.patient(&token, "SYN-AUD-000001").await;
    let new = |mrn: &str, given: &str| {
        json!({
            "mrn": mrn, "given_name": given, "family_name": "Synthetic",
            "date_of_birth": "1970-01-01",
        })
    };

    // Refused by the database (a duplicate record number), by validation, and as a
    // malformed body: each attempt is on the record, and the database is not left half
    // written.
    let duplicate = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(new("SYN-AUD-000001", "X")),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let too_long = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(new("SYN-AUD-000002", &"x".repeat(201))),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_field = app
        .call(
            Method::PATCH,
            &format!("/patients/{id}"),
            Some(&token),
            Some(json!({ "clinic_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff" })),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);

    let events = events(&app).await;
    let failed_creates = events
        .iter()
        .filter(|event| event.action == "create" && event.outcome == "failure")
        .count();
    assert_eq!(failed_creates, 2, "{events:#?}");
    assert!(
        has(&events, "update", Some(id.as_str()), "failure"),
        "{events:#?}"
    );
    assert_eq!(app.count_as_admin("patients").await, 1);
    let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

/// A clinician's read of a patient after `sabotage`, run by the administrator, broke the
/// audit trail; the service and the clinician's token, for more.
async fn read_after(sabotage: &str, mrn: &str) -> (TestApp, String, crate::support::Reply) {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let id = app.patient(&token, mrn).await;
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sabotage.to_owned()))
        .execute(&mut admin)
        .await
        .unwrap();
    let read = app
        .call(Method::GET, &format!("/patients/{id}"), Some(&token), None)
        .await;
    (app, token, read)
}

#[tokio::test]
async fn a_failing_audit_insert_aborts_the_access() {
    // The audit trail stops accepting events: recording one fails where it is made, in
    // the request, so the handler itself must refuse to serve.
    let revoke = format!("REVOKE INSERT ON audit_pending FROM {SERVICE_ROLE}");
    let (app, token, read) = read_after(&revoke, "SYN-AUD-000002").await;

    // No read without its record: the patient is not served...
    assert_eq!(read.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(read.body, json!({ "error": "internal_error" }));
    // ...and no write either: the new patient rolls back with its missing event.
    let create = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(json!({
                "mrn": "SYN-AUD-000003",
                "given_name": "Testpatient",
                "family_name": "Synthetic",
                "date_of_birth": "1970-01-01"
            })),
        )
        .await;
    assert_eq!(create.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(app.count_as_admin("patients").await, 1);
}

#[tokio::test]
async fn service_role_cannot_update_or_delete_audit_rows() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    assert!(!events(&app).await.is_empty());

    for statement in [
        "UPDATE audit_events SET outcome = 'failure'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE audit_heads SET clinic_id = clinic_id",
        "DELETE FROM audit_heads",
    ] {
        let mut tx = app.pool.begin().await.unwrap();
        db::set_scope(&mut tx, clinic, None).await.unwrap();
        let error = sqlx::raw_sql(statement)
            .execute(&mut *tx)
            .await
            .expect_err(statement);
        // insufficient_privilege
        assert_eq!(sqlstate(&error), "42501", "{statement}");
    }

    // The triggers refuse even a superuser, who bypasses privileges and policies.
    let mut admin = TestDb::connect(&app.db.admin).await;
    for statement in [
        "UPDATE audit_events SET outcome = 'failure'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let error = sqlx::raw_sql(statement)
            .execute(&mut admin)
            .await
            .expect_err(statement);
        assert_eq!(sqlstate(&error), "42501", "{statement}");
    }
    assert!(
        events(&app)
            .await
            .iter()
            .all(|event| event.outcome == "success")
    );
}

#[tokio::test]
async fn audit_tamper_is_detected() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let patient = app.patient(&clinician, "SYN-AUD-000004").await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;

    let verify = app
        .call(Method::GET, "/audit/verify", Some(&auditor), None)
        .await;
    assert_eq!(verify.status, StatusCode::OK);
    assert_eq!(verify.body["ok"], json!(true), "{:?}", verify.body);
    assert_eq!(verify_audit(&app.db).0, 0);

    // The owner switches the guard off and rewrites the creation of the patient.
    let tampered = events(&app)
        .await
        .into_iter()
        .find(|event| event.action == "create" && event.resource_id.as_deref() == Some(&patient))
        .unwrap();
    let mut owner = TestDb::connect(&app.db.owner).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
         ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
         UPDATE audit_events SET action = 'read' WHERE id = '{}';
         ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
         ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;",
        tampered.id
    )))
    .execute(&mut owner)
    .await
    .unwrap();

    let verify = app
        .call(Method::GET, "/audit/verify", Some(&auditor), None)
        .await;
    assert_eq!(verify.status, StatusCode::OK);
    assert_eq!(verify.body["ok"], json!(false));
    assert_eq!(verify.body["broken"]["seq"], json!(tampered.seq));
    assert_eq!(verify.body["broken"]["event_id"], json!(tampered.id));
    assert_eq!(verify.body["broken"]["reason"], json!("hash_mismatch"));

    let (code, report) = verify_audit(&app.db);
    assert_eq!(code, 1, "verify-audit fails on a broken chain");
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["clinics"][0]["clinic_id"], json!(clinic.to_string()));
    assert_eq!(report["clinics"][0]["broken"]["seq"], json!(tampered.seq));
    assert_eq!(
        report["clinics"][0]["broken"]["event_id"],
        json!(tampered.id)
    );

    // Removing the newest events is caught by the chain head.
    let last = events(&app)
        .await
        .into_iter()
        .map(|event| event.seq)
        .max()
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
         ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
         UPDATE audit_events SET action = 'create' WHERE id = '{}';
         DELETE FROM audit_events WHERE seq = {last};
         ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
         ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;",
        tampered.id
    )))
    .execute(&mut owner)
    .await
    .unwrap();
    let (code, report) = verify_audit(&app.db);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["clinics"][0]["broken"]["reason"],
        json!("head_mismatch")
    );
}

#[tokio::test]
async fn concurrent_accesses_never_fork_the_chain() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let id = app.patient(&token, "SYN-AUD-000006").await;
    let uri = format!("/patients/{id}");
    let read = || app.call(Method::GET, &uri, Some(&token), None);
    let replies = tokio::join!(read(), read(), read(), read());
    for reply in [replies.0, replies.1, replies.2, replies.3] {
        assert_eq!(reply.status, StatusCode::OK);
    }

    // Appends of one clinic wait for each other on the chain head: one chain, no gaps.
    let seqs: Vec<i64> = events(&app).await.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(verify_audit(&app.db).0, 0);
}

/// Runs `{{crate_name}} verify-audit` as the owner; its exit code and standard output.
fn verify_audit(db: &TestDb) -> (i32, String) {
    owner_command(db, &["verify-audit"])
}

/// Runs an administrative command of the service's binary as the owner; its exit code
/// and standard output.
fn owner_command(db: &TestDb, args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(crate::support::binary())
        .args(args)
        .env("MIGRATION_DATABASE_URL", &db.owner_url)
        .env_remove("APP_ENV")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[tokio::test]
async fn login_and_logout_are_audited() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let actor = Some(user.id.to_string());

    // A wrong password for an existing account is recorded in its clinic...
    let wrong = app
        .log_in(&user.email, "not the password at all", LOOPBACK)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // ...an unknown address nowhere: no clinic is known, and naming one would reveal it.
    let unknown = app
        .log_in(
            "nobody@test.example.org",
            "not the password at all",
            LOOPBACK,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body);

    // A password-only session reaching for PHI is refused on the record.
    let pending = app.pending(&user).await;
    let early = app
        .call(Method::GET, "/patients", Some(&pending), None)
        .await;
    assert_eq!(early.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.mfa(&pending, "000000").await.status,
        StatusCode::UNAUTHORIZED
    );
    let token = app.sign_in(&user).await;
    let logout = app
        .call(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);

    // A session that times out is recorded when it is found ended.
    let token = app.sign_in(&user).await;
    app.clock.advance(app.state.sessions.idle);
    let ended = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED);

    let events = events(&app).await;
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|event| (event.action.as_str(), event.outcome.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("create_clinic", "success"),
            ("create_user", "success"),
            ("login_failed", "failure"),
            ("login", "success"),
            ("denied", "denied"),
            ("mfa_failed", "failure"),
            ("login", "success"),
            ("mfa", "success"),
            ("logout", "success"),
            ("login", "success"),
            ("mfa", "success"),
            ("timeout", "success"),
        ],
        "{events:#?}"
    );
    // The administrative commands act for nobody; every other event for the user.
    assert!(events.iter().skip(2).all(|event| event.actor == actor));
    assert!(events.iter().take(2).all(|event| event.actor.is_none()));
}

#[tokio::test]
async fn non_auditors_cannot_read_the_audit_trail() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    for uri in ["/audit", "/audit/fhir", "/audit/verify"] {
        let reply = app.call(Method::GET, uri, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    for role in [Role::Admin, Role::Clinician, Role::Staff] {
        let token = app.sign_in(&app.user(clinic, role).await).await;
        for uri in ["/audit", "/audit/fhir", "/audit/verify"] {
            let reply = app.call(Method::GET, uri, Some(&token), None).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role} {uri}");
        }
    }
    // Each refusal is itself recorded.
    let denied = events(&app)
        .await
        .into_iter()
        .filter(|event| {
            event.action == "denied" && event.resource_type.as_deref() == Some("audit_events")
        })
        .count();
    assert_eq!(denied, 9);
}
{%- if tenancy == "multi" %}

#[tokio::test]
async fn auditor_sees_only_own_clinic_events() {
    let app = TestApp::new().await;
    let mut patients = Vec::new();
    let mut clinics = Vec::new();
    for (name, mrn) in [
        ("Synthetic Clinic A", "SYN-A-000001"),
        ("Synthetic Clinic B", "SYN-B-000001"),
    ] {
        let clinic = app.clinic(name).await;
        let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
        patients.push(app.patient(&token, mrn).await);
        clinics.push(clinic);
    }
    let auditor = app
        .sign_in(&app.user(clinics[0], Role::Auditor).await)
        .await;

    let page = app
        .call(Method::GET, "/audit?limit=200", Some(&auditor), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let resources: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["resource_id"].as_str())
        .collect();
    assert!(resources.contains(&patients[0].as_str()), "{:?}", page.body);
    assert!(
        !resources.contains(&patients[1].as_str()),
        "{:?}",
        page.body
    );
    // Each clinic's chain is its own, and intact.
    let verify = app
        .call(Method::GET, "/audit/verify", Some(&auditor), None)
        .await;
    assert_eq!(verify.body["ok"], json!(true));
    let checked = verify.body["events_checked"].as_i64().unwrap();
    assert!(checked < events(&app).await.len() as i64);

    // The database, not only the handler: scoped to clinic A, clinic B's events are
    // invisible whatever the query asks.
    let mut tx = app.pool.begin().await.unwrap();
    db::set_scope(&mut tx, clinics[0], None).await.unwrap();
    let other: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE clinic_id <> $1")
        .bind(::service::ids::to_uuid(clinics[0]))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(other, 0);
}
{%- endif %}

#[tokio::test]
async fn fhir_export_maps_audit_events() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.user(clinic, Role::Clinician).await;
    let token = app.sign_in(&clinician).await;
    let patient = app.patient(&token, "SYN-AUD-000005").await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;

    let reply = app
        .call(Method::GET, "/audit/fhir", Some(&auditor), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/fhir+json");
    assert_eq!(reply.body["resourceType"], json!("Bundle"));
    let resources: Vec<&Value> = reply.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .collect();
    assert!(
        resources
            .iter()
            .all(|resource| resource["resourceType"] == json!("AuditEvent"))
    );

    // What: the patient; action: Create; outcome: success; who: the clinician; when; source.
    let created = resources
        .iter()
        .find(|resource| resource["action"] == json!("C"))
        .unwrap();
    assert_eq!(
        created["entity"][0]["what"]["reference"],
        json!(format!("Patient/{patient}"))
    );
    assert_eq!(created["outcome"], json!("0"));
    assert_eq!(created["subtype"][0]["code"], json!("create"));
    assert_eq!(
        created["agent"][0]["who"]["identifier"]["value"],
        json!(clinician.id.to_string())
    );
    assert_eq!(
        created["agent"][0]["network"]["address"],
        json!("127.0.0.1")
    );
    assert!(created["recorded"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        created["source"]["observer"]["display"],
        json!(env!("CARGO_PKG_NAME"))
    );

    // Logins are user-authentication events (DICOM 110114), executed ("E").
    let login = resources
        .iter()
        .find(|resource| resource["type"]["code"] == json!("110114"))
        .unwrap();
    assert_eq!(login["action"], json!("E"));
    assert!(login.get("entity").is_none());
}

#[tokio::test]
async fn auditor_pages_through_the_trail() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;

    let first = app
        .call(Method::GET, "/audit?limit=2", Some(&auditor), None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["items"][0]["seq"], json!(1));
    let next = first.body["next_after"].as_i64().unwrap();
    let second = app
        .call(
            Method::GET,
            &format!("/audit?after={next}&limit=2"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(second.body["items"][0]["seq"], json!(next + 1));
    // A limit above the maximum is capped, and the last page has no continuation.
    let all = app
        .call(Method::GET, "/audit?limit=100000", Some(&auditor), None)
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body["next_after"].is_null());
}

/// The write of an event can also fail as the transaction commits, where it is chained:
/// the access fails with it (HIPAA 164.312(b)).
#[tokio::test]
async fn an_event_that_cannot_be_chained_fails_the_commit_and_the_access() {
    let revoke = format!("REVOKE INSERT ON audit_events FROM {OWNER_ROLE}");
    let (_app, _token, read) = read_after(&revoke, "SYN-AUD-000012").await;
    assert_eq!(read.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(read.body.get("mrn").is_none());
}

/// The service role appends to `audit_pending` and reads the chain; it cannot write an
/// event, move a head, or create the temporary tables that would shadow either (HIPAA
/// 164.312(c)(1)).
#[tokio::test]
async fn the_service_role_cannot_forge_events_rewind_a_head_or_create_temporary_tables() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    app.sign_in(&app.user(clinic, Role::Clinician).await).await;

    for statement in [
        "INSERT INTO audit_events (clinic_id, seq, occurred_at, action, outcome, prev_hash, hash)
         VALUES (app.current_tenant(), 1000, now(), 'read', 'success',
                 decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))",
        "UPDATE audit_heads SET seq = 0",
        "INSERT INTO audit_heads (clinic_id, seq, hash)
         VALUES (gen_random_uuid(), 0, decode(repeat('00', 32), 'hex'))",
        "SELECT count(*) FROM audit_pending",
        "DELETE FROM audit_pending",
        "CREATE TEMPORARY TABLE audit_events (id uuid)",
        "CREATE TEMPORARY TABLE audit_pending (id uuid)",
        "SELECT app.audit_chain_pending()",
    ] {
        let mut tx = app.pool.begin().await.unwrap();
        db::set_scope(&mut tx, clinic, None).await.unwrap();
        let error = sqlx::raw_sql(statement)
            .execute(&mut *tx)
            .await
            .expect_err(statement);
        assert_eq!(sqlstate(&error), "42501", "{statement}: {error}");
    }
}

/// The chaining function runs with its owner's rights, names every object with its
/// schema and searches `pg_temp` last, so no session's temporary table can divert it.
#[tokio::test]
async fn the_chaining_function_cannot_be_diverted_by_a_search_path() {
    let app = TestApp::new().await;
    let mut admin = TestDb::connect(&app.db.admin).await;
    let (definer, config, owner): (bool, Vec<String>, String) = sqlx::query_as(
        "SELECT p.prosecdef, coalesce(p.proconfig, '{}'), pg_get_userbyid(p.proowner)::text
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'app' AND p.proname = 'audit_chain_pending'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(definer, "SECURITY DEFINER");
    assert_ne!(owner, SERVICE_ROLE);
    assert_eq!(config, ["search_path=pg_catalog, pg_temp"]);
}

/// A row slipped into the chain out of turn (only the owner can) is reported by
/// verification as tampering (200, `ok: false`), never answered with a conflict.
#[tokio::test]
async fn a_forged_event_is_reported_as_tampering_not_a_conflict() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;

    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query(
        "INSERT INTO audit_events (clinic_id, seq, occurred_at, action, outcome, prev_hash, hash)
         SELECT clinic_id, seq + 1, now(), 'read', 'success', hash, hash
         FROM audit_heads WHERE clinic_id = $1",
    )
    .bind(::service::ids::to_uuid(clinic))
    .execute(&mut admin)
    .await
    .unwrap();

    let verify = app
        .call(Method::GET, "/audit/verify", Some(&auditor), None)
        .await;
    assert_eq!(verify.status, StatusCode::OK);
    assert_eq!(verify.body["ok"], json!(false), "{}", verify.body);
}

/// The owner cutting a chain back to a self-consistent earlier head, or deleting a
/// clinic's chain whole, is caught, and the clinic is named: the first by a keyed
/// checkpoint taken before, the second by every verification (HIPAA 164.312(c)(1)).
#[tokio::test]
async fn truncation_by_the_owner_is_caught_by_a_keyed_checkpoint() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    app.patient(&token, "SYN-AUD-000013").await;

    let work = tempfile_dir();
    let file = work.join("checkpoint.json");
    let file = file.to_str().unwrap();
    assert_eq!(
        owner_command(&app.db, &["audit-checkpoint", "--out", file]).0,
        0
    );
    let checkpoint: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert!(
        checkpoint["heads"][clinic.to_string()]["seq"]
            .as_i64()
            .unwrap()
            > 2
    );
    assert_eq!(
        owner_command(&app.db, &["verify-audit", "--checkpoint", file]).0,
        0
    );

    // The owner deletes the newest events and rewinds the head to match: the chain
    // holds together by itself...
    let mut owner = TestDb::connect(&app.db.owner).await;
    let owner_sql = |statements: &str| {
        format!(
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
             ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
             ALTER TABLE audit_heads NO FORCE ROW LEVEL SECURITY;
             {statements}
             ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
             ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
             ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;"
        )
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(owner_sql(&format!(
        "DELETE FROM audit_events WHERE clinic_id = '{clinic}' AND seq > 2;
         UPDATE audit_heads h SET seq = 2, hash = e.hash FROM audit_events e
             WHERE h.clinic_id = '{clinic}' AND e.clinic_id = h.clinic_id AND e.seq = 2;"
    ))))
    .execute(&mut owner)
    .await
    .unwrap();
    assert_eq!(
        verify_audit(&app.db).0,
        0,
        "a cut-back chain agrees with itself"
    );

    // ...but the checkpoint names the clinic that was cut back...
    let (code, report) = owner_command(&app.db, &["verify-audit", "--checkpoint", file]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&report).unwrap();
    let findings = report["checkpoint"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|finding| finding["clinic_id"] == json!(clinic.to_string())),
        "{report}"
    );

    // ...and a checkpoint edited to hide the cut does not verify.
    let original = std::fs::read_to_string(file).unwrap();
    let edited = original.replacen("\"seq\": ", "\"seq\": 1", 1);
    std::fs::write(file, &edited).unwrap();
    assert_eq!(
        owner_command(&app.db, &["verify-audit", "--checkpoint", file]).0,
        1
    );

    // A clinic whose chain is deleted whole is named even without a checkpoint.
    sqlx::raw_sql(sqlx::AssertSqlSafe(owner_sql(&format!(
        "DELETE FROM audit_events WHERE clinic_id = '{clinic}';
         DELETE FROM audit_heads WHERE clinic_id = '{clinic}';"
    ))))
    .execute(&mut owner)
    .await
    .unwrap();
    let (code, report) = verify_audit(&app.db);
    assert_eq!(code, 1, "{report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    let no_chain: Vec<&Value> = report["clinics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["broken"]["reason"] == json!("no_chain"))
        .collect();
    assert_eq!(no_chain.len(), 1, "{report}");
    assert_eq!(no_chain[0]["clinic_id"], json!(clinic.to_string()));
}

/// A directory of its own for one test, removed when the process exits.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{}-audit-{}",
        env!("CARGO_PKG_NAME"),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The administrative commands leave their events (HIPAA 164.308(a)(1)(ii)(D)).
#[tokio::test]
async fn administrative_commands_are_on_the_record() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    ::service::accounts::unlock(&app.pool, &*app.state.clock, &user.email)
        .await
        .unwrap();
    ::service::accounts::disable(&app.pool, &*app.state.clock, &user.email)
        .await
        .unwrap();
    assert_eq!(owner_command(&app.db, &["rotate-keys"]).0, 0);
    assert_eq!(owner_command(&app.db, &["audit-checkpoint"]).0, 0);

    let actions: Vec<String> = events(&app)
        .await
        .into_iter()
        .map(|event| event.action)
        .collect();
    for action in [
        "create_clinic",
        "create_user",
        "unlock_user",
        "disable_user",
        "rotate_keys",
        "audit_checkpoint",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert_eq!(verify_audit(&app.db).0, 0);
}

/// Refused and suspicious requests are on the record too: a search whose body does not
/// parse, a failed sign-in of a disabled account, a throttled one, an emergency access
/// to an id that names no patient, and a record number that is taken (HIPAA 164.312(b)).
#[tokio::test]
async fn refusals_and_possible_probes_are_on_the_record() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.user(clinic, Role::Clinician).await;
    let token = app.sign_in(&clinician).await;
    app.patient(&token, "SYN-AUD-000014").await;

    let search = app
        .call(
            Method::POST,
            "/patients/search",
            Some(&token),
            Some(json!({ "not_a_criterion": 1 })),
        )
        .await;
    assert_eq!(search.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = uuid::Uuid::new_v4();
    let glass = app
        .call(
            Method::POST,
            "/emergency-access",
            Some(&token),
            Some(json!({
                "patient_id": unknown.to_string(),
                "reason": "Synthetic emergency: unconscious patient in the ward"
            })),
        )
        .await;
    assert_eq!(glass.status, StatusCode::NOT_FOUND);
    let taken = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(json!({
                "mrn": "SYN-AUD-000014",
                "given_name": "Testpatient",
                "family_name": "Synthetic",
                "date_of_birth": "1970-01-01"
            })),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let staff = app.user(clinic, Role::Staff).await;
    let attacker: std::net::IpAddr = "127.0.0.55".parse().unwrap();
    for _ in 0..6 {
        app.log_in(&staff.email, "a wrong synthetic guess", attacker)
            .await;
    }
    let disabled = app.user(clinic, Role::Staff).await;
    ::service::accounts::disable(&app.pool, &*app.state.clock, &disabled.email)
        .await
        .unwrap();
    app.log_in(&disabled.email, &disabled.password, LOOPBACK)
        .await;

    let events = events(&app).await;
    assert!(has(&events, "search", None, "failure"), "{events:#?}");
    assert!(
        has(&events, "probe", Some(&unknown.to_string()), "failure"),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| e.action == "probe"
            && e.resource_type.as_deref() == Some("patients")
            && e.resource_id.is_none()),
        "{events:#?}"
    );
    let staff_id = Some(staff.id.to_string());
    assert!(
        events
            .iter()
            .any(|e| e.action == "login_failed" && e.outcome == "denied" && e.actor == staff_id)
    );
    let disabled_id = Some(disabled.id.to_string());
    assert!(
        events
            .iter()
            .any(|e| e.action == "login_failed" && e.outcome == "denied" && e.actor == disabled_id)
    );
}
