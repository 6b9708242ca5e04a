//! Restricted patients and break-glass access (HIPAA
//! 164.312(a)(1) access control, 164.312(a)(2)(ii) emergency access, 164.312(b) audit):
//! a restricted patient is invisible outside its care team; breaking the glass, with a
//! reason, shows it to one clinician for a fixed time, on the record and flagged until an
//! auditor reviews it.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use ::service::auth::Role;
use ::service::db;
use ::service::ids::ClinicId;
use ::service::models::emergency_access::EMERGENCY_ACCESS_LIFETIME;
use ::service::routes::openapi;

use crate::support::{Reply, TestApp, TestDb, TestUser, sqlstate};

const REASON: &str = "Unconscious in the emergency department, allergies unknown";

/// A signed-in account.
struct Signed {
    user: TestUser,
    token: String,
}

impl Signed {
    async fn new(app: &TestApp, clinic: ClinicId, role: Role) -> Self {
        let user = app.user(clinic, role).await;
        let token = app.sign_in(&user).await;
        Self { user, token }
    }
}

/// A clinic with a restricted patient: `restricting` restricted it with `member` on the
/// care team; `outsider` is a clinician outside it.
struct Ward {
    app: TestApp,
    clinic: ClinicId,
    restricting: Signed,
    member: Signed,
    outsider: Signed,
    staff: Signed,
    auditor: Signed,
    patient: Chart,
    /// An unrestricted patient of the same clinic.
    other: Chart,
}

/// A patient: its id, and its record number for searches.
struct Chart {
    id: String,
    mrn: &'static str,
}

impl Chart {
    async fn new(app: &TestApp, by: &Signed, mrn: &'static str) -> Self {
        let id = app.patient(&by.token, mrn).await;
        Self { id, mrn }
    }
}

impl Ward {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let clinic = app.clinic("Synthetic Clinic").await;
        let restricting = Signed::new(&app, clinic, Role::Clinician).await;
        let member = Signed::new(&app, clinic, Role::Clinician).await;
        let outsider = Signed::new(&app, clinic, Role::Clinician).await;
        let staff = Signed::new(&app, clinic, Role::Staff).await;
        let auditor = Signed::new(&app, clinic, Role::Auditor).await;
        let patient = Chart::new(&app, &restricting, "SYN-R-000001").await;
        let other = Chart::new(&app, &staff, "SYN-R-000002").await;
        let ward = Self {
            app,
            clinic,
            restricting,
            member,
            outsider,
            staff,
            auditor,
            patient,
            other,
        };
        let reply = ward
            .restrict(
                &ward.restricting,
                &ward.patient,
                json!({ "restricted": true, "care_team": [ward.member.user.id.to_string()] }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        ward
    }

    async fn restrict(&self, by: &Signed, patient: &Chart, body: Value) -> Reply {
        self.app
            .call(
                Method::PUT,
                &format!("/patients/{}/restriction", patient.id),
                Some(&by.token),
                Some(body),
            )
            .await
    }

    /// `GET path` as `who`.
    async fn get(&self, who: &Signed, path: &str) -> Reply {
        self.app
            .call(Method::GET, path, Some(&who.token), None)
            .await
    }

    /// `POST path` with the JSON `body`, as `who`.
    async fn post(&self, who: &Signed, path: &str, body: Value) -> Reply {
        self.app
            .call(Method::POST, path, Some(&who.token), Some(body))
            .await
    }

    async fn break_glass(&self, by: &Signed, body: Value) -> Reply {
        self.post(by, "/emergency-access", body).await
    }

    /// Whether `who` sees `patient` by id, in the list and in a search by record number.
    async fn sees(&self, who: &Signed, patient: &Chart) -> bool {
        let read = self
            .app
            .call(
                Method::GET,
                &format!("/patients/{}", patient.id),
                Some(&who.token),
                None,
            )
            .await;
        let list = self.get(who, "/patients?limit=200").await;
        assert_eq!(list.status, StatusCode::OK);
        let listed = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["id"] == json!(patient.id));
        let found = self
            .post(who, "/patients/search", json!({ "mrn": patient.mrn }))
            .await;
        assert_eq!(found.status, StatusCode::OK);
        let found = !found.body.as_array().unwrap().is_empty();
        match read.status {
            StatusCode::OK => assert!(listed && found, "read but not listed or found"),
            StatusCode::NOT_FOUND => assert!(!listed && !found, "listed or found, not read"),
            other => panic!("GET /patients/{}: {other}", patient.id),
        }
        read.status == StatusCode::OK
    }

    /// Moves every break-glass grant's expiry into the past, as time would.
    async fn expire_grants(&self) {
        let mut admin = TestDb::connect(&self.app.db.admin).await;
        sqlx::query(
            "UPDATE emergency_access
             SET granted_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'",
        )
        .execute(&mut admin)
        .await
        .unwrap();
    }

    /// The clinic's audit events, as an auditor reads them.
    async fn audit_events(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .get(&self.auditor, &format!("/audit?after={after}&limit=200"))
                .await;
            assert_eq!(page.status, StatusCode::OK);
            events.extend(page.body["items"].as_array().unwrap().iter().cloned());
            match page.body["next_after"].as_i64() {
                Some(next) => after = next,
                None => return events,
            }
        }
    }
}

/// The fields of a JSON object.
fn fields(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

/// The fields `GET /openapi.json` documents for schema `name`.
fn documented(name: &str) -> BTreeSet<String> {
    let document = serde_json::to_value(openapi::document()).unwrap();
    fields(&document["components"]["schemas"][name]["properties"])
}

#[tokio::test]
async fn break_glass_routes_refuse_a_request_without_a_session() {
    let app = TestApp::new().await;
    let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    for (method, uri) in [
        (Method::PUT, format!("/patients/{id}/restriction")),
        (Method::POST, "/emergency-access".to_owned()),
        (Method::GET, "/emergency-access".to_owned()),
        (Method::POST, format!("/emergency-access/{id}/review")),
    ] {
        let reply = app.call(method.clone(), &uri, None, Some(json!({}))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
}

#[tokio::test]
async fn restricted_patient_is_invisible_outside_its_care_team() {
    let ward = Ward::new().await;
    assert!(ward.sees(&ward.restricting, &ward.patient).await);
    assert!(ward.sees(&ward.member, &ward.patient).await);
    assert!(!ward.sees(&ward.outsider, &ward.patient).await);
    assert!(!ward.sees(&ward.staff, &ward.patient).await);
    // The clinic's other patients are as visible as ever.
    assert!(ward.sees(&ward.outsider, &ward.other).await);
    assert!(ward.sees(&ward.staff, &ward.other).await);

    // Nor can an outsider change it, write to it, or add themself to its care team.
    let uri = format!("/patients/{}", ward.patient.id);
    let patch = ward
        .app
        .call(
            Method::PATCH,
            &uri,
            Some(&ward.outsider.token),
            Some(json!({ "phone": "+41 00 000 00 00" })),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    let join = ward
        .restrict(
            &ward.outsider,
            &ward.patient,
            json!({ "restricted": true, "care_team": [] }),
        )
        .await;
    assert_eq!(join.status, StatusCode::NOT_FOUND);
    let lift = ward
        .restrict(
            &ward.outsider,
            &ward.patient,
            json!({ "restricted": false }),
        )
        .await;
    assert_eq!(lift.status, StatusCode::NOT_FOUND);

    // Lifting it, from within the care team, gives it back to the clinic.
    let lift = ward
        .restrict(&ward.member, &ward.patient, json!({ "restricted": false }))
        .await;
    assert_eq!(lift.status, StatusCode::OK, "{:?}", lift.body);
    assert_eq!(lift.body["care_team"], json!([]));
    assert!(ward.sees(&ward.outsider, &ward.patient).await);
}
{%- if modules contains "encounters" or modules contains "appointments" or modules contains "notes" %}

#[tokio::test]
async fn restricted_patients_clinical_records_are_invisible_outside_its_care_team() {
    let ward = Ward::new().await;
    let mut records = Vec::new();
{%- if modules contains "encounters" %}
    records.push((
        "/encounters",
        json!({
            "patient_id": ward.patient.id,
            "class": "ambulatory",
            "started_at": "2030-01-02T09:00:00Z"
        }),
    ));
{%- endif %}
{%- if modules contains "appointments" %}
    records.push((
        "/appointments",
        json!({
            "patient_id": ward.patient.id,
            "starts_at": "2030-01-02T09:00:00Z",
            "ends_at": "2030-01-02T09:30:00Z"
        }),
    ));
{%- endif %}
{%- if modules contains "notes" %}
    records.push((
        "/notes",
        json!({ "patient_id": ward.patient.id, "body": "Synthetic note: restricted." }),
    ));
{%- endif %}
    for (collection, new) in records {
        let created = ward.post(&ward.member, collection, new.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{collection}");
        let id = created.body["id"].as_str().unwrap();
        let item = format!("{collection}/{id}");
        let search = format!("{collection}/search");
        let by_patient = json!({ "patient_id": ward.patient.id });

        let read = ward.get(&ward.restricting, &item).await;
        assert_eq!(read.status, StatusCode::OK, "{item}");

        let read = ward.get(&ward.outsider, &item).await;
        assert_eq!(read.status, StatusCode::NOT_FOUND, "{item}");
        let list = ward.get(&ward.outsider, collection).await;
        assert_eq!(list.body["items"], json!([]), "{collection}");
        let found = ward.post(&ward.outsider, &search, by_patient).await;
        assert_eq!(found.body, json!([]), "{search}");
        // Nor can an outsider add to the record of a patient it cannot see.
        let added = ward.post(&ward.outsider, collection, new).await;
        assert_eq!(added.status, StatusCode::NOT_FOUND, "{collection}");
    }
}
{%- endif %}

#[tokio::test]
async fn restricting_takes_a_clinician_in_the_patients_care_and_a_team_of_clinicians() {
    let ward = Ward::new().await;
    let by_staff = ward
        .restrict(
            &ward.staff,
            &ward.other,
            json!({ "restricted": true, "care_team": [] }),
        )
        .await;
    assert_eq!(by_staff.status, StatusCode::FORBIDDEN);
    let staff_on_team = ward
        .restrict(
            &ward.outsider,
            &ward.other,
            json!({ "restricted": true, "care_team": [ward.staff.user.id.to_string()] }),
        )
        .await;
    assert_eq!(staff_on_team.status, StatusCode::UNPROCESSABLE_ENTITY);
{%- if tenancy == "multi" %}
    let other_clinic = ward.app.clinic("Synthetic Clinic B").await;
    let stranger = ward.app.user(other_clinic, Role::Clinician).await;
    let stranger_on_team = ward
        .restrict(
            &ward.outsider,
            &ward.other,
            json!({ "restricted": true, "care_team": [stranger.id.to_string()] }),
        )
        .await;
    assert_eq!(stranger_on_team.status, StatusCode::UNPROCESSABLE_ENTITY);
{%- endif %}

    // The restricting clinician is always on the team: it cannot lock itself out.
    let restricted = ward
        .restrict(
            &ward.outsider,
            &ward.other,
            json!({ "restricted": true, "care_team": [] }),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK, "{:?}", restricted.body);
    assert_eq!(fields(&restricted.body), documented("Restriction"));
    assert_eq!(
        restricted.body["care_team"],
        json!([ward.outsider.user.id.to_string()])
    );
    assert!(ward.sees(&ward.outsider, &ward.other).await);
    assert!(!ward.sees(&ward.staff, &ward.other).await);

    // The change is on the record.
    let events = ward.audit_events().await;
    assert!(events.iter().any(|event| event["action"] == "update"
        && event["resource_type"] == "patient_restrictions"
        && event["resource_id"] == json!(ward.other.id)
        && event["outcome"] == "success"));
}

#[tokio::test]
async fn break_glass_without_a_reason_or_by_another_role_is_refused() {
    let ward = Ward::new().await;
    let patient = &ward.patient.id;
    for body in [
        json!({ "patient_id": patient }),
        json!({ "patient_id": patient, "reason": "" }),
        json!({ "patient_id": patient, "reason": "                         " }),
        json!({ "patient_id": patient, "reason": "urgent" }),
        json!({ "patient_id": patient, "reason": REASON, "expires_at": "2099-01-01T00:00:00Z" }),
        json!({ "patient_id": patient, "reason": REASON, "user_id": ward.member.user.id.to_string() }),
    ] {
        let reply = ward.break_glass(&ward.outsider, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    for who in [&ward.staff, &ward.auditor] {
        let reply = ward
            .break_glass(who, json!({ "patient_id": patient, "reason": REASON }))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // A patient the clinic does not have is not found, and nothing is granted.
    let unknown = ward
        .break_glass(
            &ward.outsider,
            json!({ "patient_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "reason": REASON }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(ward.app.count_as_admin("emergency_access").await, 0);
    assert!(!ward.sees(&ward.outsider, &ward.patient).await);

    // The refusals and the failed attempt are on the record.
    let events = ward.audit_events().await;
    for actor in [&ward.staff, &ward.auditor] {
        assert!(events.iter().any(|event| event["action"] == "denied"
            && event["resource_type"] == "emergency_access"
            && event["actor_user_id"] == json!(actor.user.id.to_string())));
    }
    assert!(events.iter().any(|event| event["action"] == "break_glass"
        && event["outcome"] == "failure"
        && event["resource_id"] == "6f9619ff-8b86-d011-b42d-00c04fc964ff"));
}

#[tokio::test]
async fn break_glass_shows_one_patient_to_one_clinician_until_it_expires() {
    let ward = Ward::new().await;
    let second = Chart::new(&ward.app, &ward.staff, "SYN-R-000003").await;
    let restricted = ward
        .restrict(
            &ward.restricting,
            &second,
            json!({ "restricted": true, "care_team": [] }),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK);
    let bystander = Signed::new(&ward.app, ward.clinic, Role::Clinician).await;

    let granted = ward
        .break_glass(
            &ward.outsider,
            json!({ "patient_id": ward.patient.id, "reason": REASON }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::CREATED, "{:?}", granted.body);
    assert_eq!(granted.body["patient_id"], json!(ward.patient.id));
    assert!(granted.body["id"].is_string() && granted.body["expires_at"].is_string());

    assert!(ward.sees(&ward.outsider, &ward.patient).await);
    // That clinician, that patient only.
    assert!(!ward.sees(&bystander, &ward.patient).await);
    assert!(!ward.sees(&ward.staff, &ward.patient).await);
    assert!(!ward.sees(&ward.outsider, &second).await);
    // Seeing is not deciding: a grant does not let its holder join the care team.
    let join = ward
        .restrict(
            &ward.outsider,
            &ward.patient,
            json!({ "restricted": true, "care_team": [] }),
        )
        .await;
    assert_eq!(join.status, StatusCode::FORBIDDEN);

    // The database sets the lifetime the service documents.
    let mut admin = TestDb::connect(&ward.app.db.admin).await;
    let seconds: f64 = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM expires_at - granted_at)::float8 FROM emergency_access",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(seconds, EMERGENCY_ACCESS_LIFETIME.num_seconds() as f64);

    ward.expire_grants().await;
    assert!(!ward.sees(&ward.outsider, &ward.patient).await);
}

#[tokio::test]
async fn break_glass_is_audited_and_flagged_until_an_auditor_reviews_it() {
    let ward = Ward::new().await;
    let granted = ward
        .break_glass(
            &ward.outsider,
            json!({ "patient_id": ward.patient.id, "reason": REASON }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::CREATED);
    assert_eq!(fields(&granted.body), documented("EmergencyGrant"));
    let grant = granted.body["id"].as_str().unwrap().to_owned();

    let events = ward.audit_events().await;
    assert!(events.iter().any(|event| event["action"] == "break_glass"
        && event["outcome"] == "success"
        && event["resource_type"] == "patients"
        && event["resource_id"] == json!(ward.patient.id)
        && event["actor_user_id"] == json!(ward.outsider.user.id.to_string())));
    let verified = ward.get(&ward.auditor, "/audit/verify").await;
    assert_eq!(verified.body["ok"], json!(true));

    // Flagged: in the auditors' queue, with its reason, unreviewed.
    let flagged = ward.get(&ward.auditor, "/emergency-access").await;
    assert_eq!(flagged.status, StatusCode::OK);
    let items = flagged.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], json!(grant));
    assert_eq!(fields(&items[0]), documented("EmergencyAccess"));
    assert_eq!(items[0]["reason"], json!(REASON));
    assert_eq!(
        items[0]["user_id"],
        json!(ward.outsider.user.id.to_string())
    );
    assert_eq!(items[0]["reviewed_at"], Value::Null);

    // Neither the clinician who broke the glass nor staff see the queue or clear the flag.
    let review = format!("/emergency-access/{grant}/review");
    for who in [&ward.outsider, &ward.staff] {
        let queue = ward.get(who, "/emergency-access").await;
        assert_eq!(queue.status, StatusCode::FORBIDDEN);
        let cleared = ward
            .app
            .call(Method::POST, &review, Some(&who.token), None)
            .await;
        assert_eq!(cleared.status, StatusCode::FORBIDDEN);
    }

    let reviewed = ward
        .app
        .call(Method::POST, &review, Some(&ward.auditor.token), None)
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{:?}", reviewed.body);
    assert_eq!(fields(&reviewed.body), documented("EmergencyAccess"));
    assert_eq!(
        reviewed.body["reviewed_by"],
        json!(ward.auditor.user.id.to_string())
    );
    assert!(reviewed.body["reviewed_at"].is_string());
    // A review is final, and the grant leaves the queue.
    let again = ward
        .app
        .call(Method::POST, &review, Some(&ward.auditor.token), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let flagged = ward.get(&ward.auditor, "/emergency-access").await;
    assert_eq!(flagged.body["items"], json!([]));
    // The auditor's read of the reason and the review are on the record too.
    let events = ward.audit_events().await;
    for action in ["read", "update"] {
        assert!(
            events.iter().any(|event| event["action"] == action
                && event["resource_type"] == "emergency_access"
                && event["resource_id"] == json!(grant)
                && event["actor_user_id"] == json!(ward.auditor.user.id.to_string())
                && event["outcome"] == "success"),
            "{action}"
        );
    }
}

#[tokio::test]
async fn service_role_cannot_forge_extend_or_clear_break_glass_grants() {
    let ward = Ward::new().await;
    let granted = ward
        .break_glass(
            &ward.outsider,
            json!({ "patient_id": ward.patient.id, "reason": REASON }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::CREATED);
    let pool = ward.app.db.service_pool(1).await;
    let patient: uuid::Uuid = ward.patient.id.parse().unwrap();

    // As the clinician who holds the grant, straight to the database (as a compromised
    // service could). Refused outright (42501: no privilege, or a row no policy admits):
    let refused = [
        // Its own lifetime: the database sets it.
        "INSERT INTO emergency_access (patient_id, reason, expires_at)
         VALUES ($1, 'Synthetic reason, long enough to pass', now() + interval '1 year')",
        // A grant in another account's name.
        "INSERT INTO emergency_access (patient_id, reason, user_id)
         SELECT $1, 'Synthetic reason, long enough to pass', id FROM users
         WHERE id <> app.current_user_id() LIMIT 1",
        // Extending the grant it has.
        "UPDATE emergency_access SET expires_at = now() + interval '1 year'
         WHERE patient_id = $1",
        // Erasing it.
        "DELETE FROM emergency_access WHERE patient_id = $1",
        // Turning it into care-team membership.
        "INSERT INTO care_team (patient_id, user_id) VALUES ($1, app.current_user_id())",
    ];
    for sql in refused {
        let mut tx = db::begin_scoped(&pool, ward.clinic, Some(ward.outsider.user.id))
            .await
            .unwrap();
        let error = sqlx::query(sql)
            .bind(patient)
            .execute(&mut *tx)
            .await
            .expect_err(sql);
        assert_eq!(sqlstate(&error), "42501", "{sql}: {error}");
    }
    // Without effect: the policies let only the care team lift a restriction, and only an
    // auditor review a grant.
    let ineffective = [
        // Lifting the restriction, which only the care team may.
        "DELETE FROM patient_restrictions WHERE patient_id = $1",
        // Clearing the review flag in its own favour, which only an auditor may.
        "UPDATE emergency_access SET reviewed_at = now(), reviewed_by = app.current_user_id()
         WHERE patient_id = $1",
    ];
    for sql in ineffective {
        let mut tx = db::begin_scoped(&pool, ward.clinic, Some(ward.outsider.user.id))
            .await
            .unwrap();
        let done = sqlx::query(sql)
            .bind(patient)
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0, "{sql}");
    }

    // Nor can staff break the glass, straight to the database.
    let mut tx = db::begin_scoped(&pool, ward.clinic, Some(ward.staff.user.id))
        .await
        .unwrap();
    let error = sqlx::query(
        "INSERT INTO emergency_access (id, patient_id, reason)
         VALUES (gen_random_uuid(), $1, 'Synthetic reason, long enough to pass')",
    )
    .bind(patient)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&error), "42501");
    drop(tx);

    // Without a user, a restricted patient is no one's.
    let mut tx = db::begin_scoped(&pool, ward.clinic, None).await.unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM patients WHERE id = $1")
        .bind(patient)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen, 0);
}
