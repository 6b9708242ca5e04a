//! Row-level security, the second authorization layer (HIPAA 164.312(a)(1)):
//! whatever a query forgets, PostgreSQL shows the service only the rows of the clinic
//! its transaction is scoped to, and nothing without a scope.

use sqlx::Row;

use ::service::auth::Role;
use ::service::db::{self, OWNER_ROLE, SERVICE_ROLE};
use ::service::ids::ClinicId;

use crate::support::{TestApp, TestDb};

/// Tables that hold neither PHI nor tenant data.
const WITHOUT_TENANT_DATA: [&str; 2] = ["deployment", "_sqlx_migrations"];

async fn tables(db: &TestDb) -> Vec<(String, bool, bool)> {
    let mut admin = TestDb::connect(&db.admin).await;
    sqlx::query(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1), row.get(2)))
    .collect()
}

/// Some rows in every table: a clinic, accounts, a session, a patient.
async fn populated() -> (TestApp, ClinicId, String) {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic A").await;
    let user = app.user(clinic, Role::Clinician).await;
    let token = app.sign_in(&user).await;
    app.patient(&token, "SYN-A-000001").await;
    (app, clinic, token)
}

#[tokio::test]
async fn every_table_with_tenant_data_has_row_level_security_enabled_and_forced() {
    let db = TestDb::new().await;
    let tables = tables(&db).await;
    assert!(tables.iter().any(|(name, ..)| name == "patients"));
    for (name, enabled, forced) in tables {
        if WITHOUT_TENANT_DATA.contains(&name.as_str()) {
            continue;
        }
        assert!(
            enabled && forced,
            "{name}: ENABLE and FORCE ROW LEVEL SECURITY"
        );
    }

    // Every policy that admits writes checks them.
    let mut admin = TestDb::connect(&db.admin).await;
    let unchecked: Vec<String> = sqlx::query_scalar(
        "SELECT tablename || '.' || policyname FROM pg_policies
         WHERE cmd IN ('ALL', 'INSERT', 'UPDATE') AND with_check IS NULL",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        unchecked.is_empty(),
        "policies without WITH CHECK: {unchecked:?}"
    );
}

#[tokio::test]
async fn service_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let db = TestDb::new().await;
    let mut admin = TestDb::connect(&db.admin).await;
    for role in [SERVICE_ROLE, OWNER_ROLE] {
        let (superuser, bypass): (bool, bool) =
            sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
                .bind(role)
                .fetch_one(&mut admin)
                .await
                .unwrap();
        assert!(
            !superuser && !bypass,
            "{role} must not bypass row-level security"
        );
    }
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
         WHERE r.rolname = $1",
    )
    .bind(SERVICE_ROLE)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the service role owns no table, view or sequence");

    for (name, ..) in tables(&db).await {
        for privilege in ["TRUNCATE", "REFERENCES", "TRIGGER"] {
            let granted: bool = sqlx::query_scalar("SELECT has_table_privilege($1, $2, $3)")
                .bind(SERVICE_ROLE)
                .bind(&name)
                .bind(privilege)
                .fetch_one(&mut admin)
                .await
                .unwrap();
            assert!(!granted, "{SERVICE_ROLE} has {privilege} on {name}");
        }
    }
    let hard_delete: bool =
        sqlx::query_scalar("SELECT has_table_privilege($1, 'patients', 'DELETE')")
            .bind(SERVICE_ROLE)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert!(!hard_delete, "patients are soft-deleted only");
}

#[tokio::test]
async fn service_role_without_clinic_context_sees_zero_rows() {
    let (app, ..) = populated().await;
    let mut service = TestDb::connect(&app.db.service).await;
    for (name, rls, _) in tables(&app.db).await {
        let readable: bool =
            sqlx::query_scalar("SELECT has_table_privilege(current_user, $1, 'SELECT')")
                .bind(&name)
                .fetch_one(&mut service)
                .await
                .unwrap();
        if !rls || !readable {
            continue;
        }
        if ["clinics", "users", "sessions", "patients"].contains(&name.as_str()) {
            assert!(
                app.count_as_admin(&name).await > 0,
                "{name} has rows to hide"
            );
        }
        let seen: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {name}")))
                .fetch_one(&mut service)
                .await
                .unwrap();
        assert_eq!(seen, 0, "{name} without a clinic scope");
    }
}

#[tokio::test]
async fn clinic_scope_ends_with_its_transaction() {
    let (app, clinic, _) = populated().await;
    // One connection, so the scoped and the unscoped query share it.
    let pool = app.db.service_pool(1).await;
    let mut tx = db::begin_scoped(&pool, clinic, None).await.unwrap();
    let inside: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((inside, after), (1, 0));
}
{%- if tenancy == "multi" %}

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::crypto::Field;

use crate::support::sqlstate;

/// Two clinics with a clinician and patients each.
async fn two_clinics() -> (TestApp, [ClinicId; 2], [String; 2]) {
    let app = TestApp::new().await;
    let a = app.clinic("Synthetic Clinic A").await;
    let b = app.clinic("Synthetic Clinic B").await;
    let token_a = app.sign_in(&app.user(a, Role::Clinician).await).await;
    let token_b = app.sign_in(&app.user(b, Role::Clinician).await).await;
    for n in 1..=3 {
        app.patient(&token_a, &format!("SYN-A-{n:06}")).await;
    }
    for n in 1..=2 {
        app.patient(&token_b, &format!("SYN-B-{n:06}")).await;
    }
    (app, [a, b], [token_a, token_b])
}

/// The record numbers `tx` sees, decrypted with the keys of `clinic`.
async fn mrns(app: &TestApp, tx: &mut sqlx::PgConnection, clinic: ClinicId) -> Vec<String> {
    // No WHERE clause: row-level security is all that stands between the clinics.
    let rows: Vec<(uuid::Uuid, Vec<u8>)> = sqlx::query_as("SELECT id, mrn FROM patients")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let keys = app
        .state
        .keyring
        .for_clinic(tx, db_uuid(clinic))
        .await
        .unwrap();
    let mut mrns: Vec<String> = rows
        .into_iter()
        .map(|(id, mrn)| {
            keys.open_text(Field::new("patients", "mrn"), id, &mrn)
                .unwrap()
        })
        .collect();
    mrns.sort();
    mrns
}

#[tokio::test]
async fn query_without_where_clause_sees_only_the_callers_clinic() {
    let (app, [a, b], _) = two_clinics().await;
    let mut tx = db::begin_scoped(&app.pool, a, None).await.unwrap();
    assert_eq!(
        mrns(&app, &mut tx, a).await,
        ["SYN-A-000001", "SYN-A-000002", "SYN-A-000003"]
    );
    tx.rollback().await.unwrap();
    let mut tx = db::begin_scoped(&app.pool, b, None).await.unwrap();
    assert_eq!(
        mrns(&app, &mut tx, b).await,
        ["SYN-B-000001", "SYN-B-000002"]
    );
}

#[tokio::test]
async fn two_clinics_alternating_on_one_pooled_connection_never_see_each_other() {
    let (app, [a, b], _) = two_clinics().await;
    let pool = app.db.service_pool(1).await;
    for _ in 0..3 {
        for (clinic, prefix) in [(a, "SYN-A-"), (b, "SYN-B-")] {
            let mut tx = db::begin_scoped(&pool, clinic, None).await.unwrap();
            let seen = mrns(&app, &mut tx, clinic).await;
            assert!(!seen.is_empty());
            assert!(seen.iter().all(|mrn| mrn.starts_with(prefix)), "{seen:?}");
            tx.commit().await.unwrap();
            let leaked: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(leaked, 0, "the scope outlived its transaction");
        }
    }
}

#[tokio::test]
async fn writes_into_another_clinic_are_refused_by_the_database() {
    let (app, [a, b], _) = two_clinics().await;
    let mut tx = db::begin_scoped(&app.pool, a, None).await.unwrap();
    let insert = sqlx::query(
        "INSERT INTO patients (id, clinic_id, mrn, given_name, family_name, date_of_birth,
                               mrn_index, name_dob_index)
         VALUES (gen_random_uuid(), $1, 'SYN-X-000001', 'Testpatient', 'Synthetic',
                 '1970-01-01', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))",
    )
    .bind(db_uuid(b))
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&insert), "42501", "WITH CHECK refuses the row");
    tx.rollback().await.unwrap();

    let mut tx = db::begin_scoped(&app.pool, a, None).await.unwrap();
    let moved = sqlx::query("UPDATE patients SET clinic_id = $1")
        .bind(db_uuid(b))
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(
        sqlstate(&moved),
        "42501",
        "no privilege to move a row between clinics"
    );
}

#[tokio::test]
async fn clinician_of_another_clinic_gets_404_for_read_update_delete_and_search() {
    let (app, [_, b], [token_a, token_b]) = two_clinics().await;
    let id = app.patient(&token_a, "SYN-A-000099").await;
    let admin_b = app.sign_in(&app.user(b, Role::Admin).await).await;
    let uri = format!("/patients/{id}");

    let read = app.call(Method::GET, &uri, Some(&token_b), None).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    let update = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token_b),
            Some(json!({ "given_name": "Changed" })),
        )
        .await;
    assert_eq!(update.status, StatusCode::NOT_FOUND);
    let delete = app.call(Method::DELETE, &uri, Some(&admin_b), None).await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    let search = app
        .call(
            Method::POST,
            "/patients/search",
            Some(&token_b),
            Some(json!({ "mrn": "SYN-A-000099" })),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK);
    assert_eq!(search.body, json!([]));
    let list = app
        .call(Method::GET, "/patients", Some(&token_b), None)
        .await;
    let items = list.body["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|p| p["mrn"].as_str().unwrap().starts_with("SYN-B-"))
    );

    // The owning clinic still sees it, unchanged.
    let read = app.call(Method::GET, &uri, Some(&token_a), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["given_name"], json!("Testpatient"));
}

fn db_uuid(clinic: ClinicId) -> uuid::Uuid {
    ::service::ids::to_uuid(clinic)
}
{%- else %}

#[tokio::test]
async fn single_tenancy_database_holds_one_clinic() {
    let app = TestApp::new().await;
    app.clinic("Synthetic Clinic A").await;
    let mut tx = app.pool.begin().await.unwrap();
    let name = "Synthetic Clinic B";
    let second = ::service::models::clinic::create(&mut tx, name).await;
    assert!(second.is_err(), "a second clinic is refused");
}
{%- endif %}
