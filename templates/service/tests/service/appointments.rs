//! Appointments: same shape as patients; front-desk staff reschedule.

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn appointments_follow_the_matrix_and_belong_to_the_patients_clinic() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let staff = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;
    let admin = app.sign_in(&app.user(clinic, Role::Admin).await).await;
    let patient = app.patient(&staff, "SYN-A-000001").await;

    let new = json!({
        "patient_id": patient,
        "starts_at": "2030-01-02T09:00:00Z",
        "ends_at": "2030-01-02T09:20:00Z",
        "reason": "synthetic follow-up"
    });
    let created = app
        .call(
            Method::POST,
            "/appointments",
            Some(&staff),
            Some(new.clone()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["status"], json!("booked"));
    let uri = format!("/appointments/{}", created.body["id"].as_str().unwrap());

    let moved = app
        .call(
            Method::PATCH,
            &uri,
            Some(&staff),
            Some(json!({ "starts_at": "2030-01-03T09:00:00Z", "ends_at": "2030-01-03T09:20:00Z" })),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    let backwards = app
        .call(
            Method::PATCH,
            &uri,
            Some(&staff),
            Some(json!({ "ends_at": "2029-01-01T00:00:00Z" })),
        )
        .await;
    assert_eq!(
        backwards.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ends before it starts"
    );

    assert_eq!(
        app.call(Method::GET, &uri, Some(&auditor), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let deleted = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let mut orphan = new;
    orphan["patient_id"] = json!("6f9619ff-8b86-d011-b42d-00c04fc964ff");
    let refused = app
        .call(Method::POST, "/appointments", Some(&staff), Some(orphan))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}
