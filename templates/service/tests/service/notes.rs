//! Clinical notes: clinicians only, the minimum necessary (HIPAA 164.502(b)).

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn staff_cannot_read_or_write_notes() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let staff = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    let admin = app.sign_in(&app.user(clinic, Role::Admin).await).await;
    let patient = app.patient(&clinician, "SYN-A-000001").await;

    let new = json!({ "patient_id": patient, "body": "Synthetic note: feels better." });
    let by_staff = app
        .call(Method::POST, "/notes", Some(&staff), Some(new.clone()))
        .await;
    assert_eq!(by_staff.status, StatusCode::FORBIDDEN);
    let created = app
        .call(Method::POST, "/notes", Some(&clinician), Some(new))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let uri = format!("/notes/{}", created.body["id"].as_str().unwrap());

    for token in [&staff, &admin] {
        let reply = app.call(Method::GET, &uri, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let search = app
            .call(
                Method::POST,
                "/notes/search",
                Some(token),
                Some(json!({ "patient_id": patient })),
            )
            .await;
        assert_eq!(search.status, StatusCode::FORBIDDEN);
    }
    let read = app.call(Method::GET, &uri, Some(&clinician), None).await;
    assert_eq!(read.body["body"], json!("Synthetic note: feels better."));
    let edited = app
        .call(
            Method::PATCH,
            &uri,
            Some(&clinician),
            Some(json!({ "body": "Synthetic note, amended." })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);

    // Admins remove a note without reading it.
    let deleted = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, &uri, Some(&clinician), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
