//! Encounters: same shape as patients, behind the same matrix and clinic.

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn encounters_follow_the_matrix_and_belong_to_the_patients_clinic() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let staff = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    let admin = app.sign_in(&app.user(clinic, Role::Admin).await).await;
    let patient = app.patient(&staff, "SYN-A-000001").await;

    let new = json!({
        "patient_id": patient,
        "class": "ambulatory",
        "reason": "synthetic check-up",
        "started_at": "2030-01-02T09:00:00Z"
    });
    let created = app
        .call(Method::POST, "/encounters", Some(&staff), Some(new.clone()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let uri = format!("/encounters/{}", created.body["id"].as_str().unwrap());

    let changed = json!({ "ended_at": "2030-01-02T09:30:00Z" });
    let by_staff = app
        .call(Method::PATCH, &uri, Some(&staff), Some(changed.clone()))
        .await;
    assert_eq!(by_staff.status, StatusCode::FORBIDDEN);
    let by_clinician = app
        .call(Method::PATCH, &uri, Some(&clinician), Some(changed))
        .await;
    assert_eq!(by_clinician.status, StatusCode::OK);
    assert_eq!(by_clinician.body["ended_at"], json!("2030-01-02T09:30:00Z"));

    let found = app
        .call(
            Method::POST,
            "/encounters/search",
            Some(&staff),
            Some(json!({ "patient_id": patient })),
        )
        .await;
    assert_eq!(found.body.as_array().unwrap().len(), 1);

    let read_by_admin = app.call(Method::GET, &uri, Some(&admin), None).await;
    assert_eq!(read_by_admin.status, StatusCode::FORBIDDEN);
    let deleted = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, &uri, Some(&clinician), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // No encounter for a patient this clinic does not have.
    let mut orphan = new;
    orphan["patient_id"] = json!("6f9619ff-8b86-d011-b42d-00c04fc964ff");
    let refused = app
        .call(Method::POST, "/encounters", Some(&clinician), Some(orphan))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}
