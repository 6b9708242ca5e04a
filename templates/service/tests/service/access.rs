//! The first authorization layer: no session, no PHI; and each role only what the access
//! matrix gives it (HIPAA 164.312(a)(1), 164.502(b) minimum necessary).

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::auth::Role;

use crate::support::TestApp;

/// Every clinical resource this project serves.
const RESOURCES: &[&str] = &[
    // Always generated.
    "/patients",
{%- if modules contains "encounters" %}
    // The `encounters` module.
    "/encounters",
{%- endif %}
{%- if modules contains "appointments" %}
    // The `appointments` module.
    "/appointments",
{%- endif %}
{%- if modules contains "notes" %}
    // The `notes` module.
    "/notes",
{%- endif %}
];

const SOME_ID: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

/// Every route that serves PHI or the user, with a body where it takes one.
fn protected_routes() -> Vec<(Method, String)> {
    let mut routes = vec![(Method::GET, "/me".to_owned())];
    for resource in RESOURCES {
        routes.extend([
            (Method::GET, resource.to_string()),
            (Method::POST, resource.to_string()),
            (Method::POST, format!("{resource}/search")),
            (Method::GET, format!("{resource}/{SOME_ID}")),
            (Method::PATCH, format!("{resource}/{SOME_ID}")),
            (Method::DELETE, format!("{resource}/{SOME_ID}")),
        ]);
    }
    routes
}

#[tokio::test]
async fn every_phi_route_refuses_a_request_without_a_session() {
    let app = TestApp::new().await;
    for (method, uri) in protected_routes() {
        for token in [None, Some("f".repeat(64))] {
            let reply = app
                .call(method.clone(), &uri, token.as_deref(), Some(json!({})))
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(reply.body, json!({ "error": "unauthorized" }));
        }
    }
}

#[tokio::test]
async fn each_role_reads_only_what_the_matrix_gives_it() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    for role in Role::ALL {
        let token = app.sign_in(&app.user(clinic, role).await).await;
        for resource in RESOURCES {
            // Clinicians read everything clinical, staff all but notes, admins and
            // auditors no patient records at all.
            let may_read = match (role, *resource) {
                (Role::Clinician, _) => true,
                (Role::Staff, "/notes") => false,
                (Role::Staff, _) => true,
                (Role::Admin | Role::Auditor, _) => false,
            };
            let list = app.call(Method::GET, resource, Some(&token), None).await;
            let search = app
                .call(
                    Method::POST,
                    &format!("{resource}/search"),
                    Some(&token),
                    Some(json!({})),
                )
                .await;
            if may_read {
                assert_eq!(list.status, StatusCode::OK, "{role} GET {resource}");
                assert_ne!(
                    search.status,
                    StatusCode::FORBIDDEN,
                    "{role} search {resource}"
                );
            } else {
                assert_eq!(list.status, StatusCode::FORBIDDEN, "{role} GET {resource}");
                assert_eq!(
                    search.status,
                    StatusCode::FORBIDDEN,
                    "{role} search {resource}"
                );
            }
        }
    }
}

#[tokio::test]
async fn only_admins_delete() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    for role in Role::ALL {
        let token = app.sign_in(&app.user(clinic, role).await).await;
        for resource in RESOURCES {
            let uri = format!("{resource}/{SOME_ID}");
            let reply = app.call(Method::DELETE, &uri, Some(&token), None).await;
            let expected = if role == Role::Admin {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(reply.status, expected, "{role} DELETE {uri}");
        }
    }
}

#[tokio::test]
async fn unknown_fields_are_refused_so_clinic_and_role_cannot_be_assigned() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let id = app.patient(&token, "SYN-A-000001").await;

    let create = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(json!({
                "mrn": "SYN-A-000002",
                "given_name": "Testpatient",
                "family_name": "Synthetic",
                "date_of_birth": "1970-01-01",
                "clinic_id": SOME_ID
            })),
        )
        .await;
    assert_eq!(create.status, StatusCode::UNPROCESSABLE_ENTITY);
    let update = app
        .call(
            Method::PATCH,
            &format!("/patients/{id}"),
            Some(&token),
            Some(json!({ "clinic_id": SOME_ID })),
        )
        .await;
    assert_eq!(update.status, StatusCode::UNPROCESSABLE_ENTITY);
    let login = app
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({ "email": "a@test.example.org", "password": "x", "role": "admin" })),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The refusal names the rule, never the value sent.
    assert!(!create.body.to_string().contains(SOME_ID));
}

#[tokio::test]
async fn phi_responses_are_never_cached() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    let id = app.patient(&token, "SYN-A-000001").await;
    let reply = app
        .call(Method::GET, &format!("/patients/{id}"), Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["cache-control"], "no-store");
}
