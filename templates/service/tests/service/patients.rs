//! Patients through the API: create, read, page, change, search by exact match in the
//! body, and soft delete kept for the retention rules.

use axum::http::{Method, StatusCode};
use serde_json::json;

use ::service::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn patient_record_round_trips_and_changes_by_clinicians_only() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let staff = app.sign_in(&app.user(clinic, Role::Staff).await).await;

    let created = app
        .call(
            Method::POST,
            "/patients",
            Some(&staff),
            Some(json!({
                "mrn": "SYN-A-000001",
                "given_name": "Testpatient",
                "family_name": "Synthetic",
                "date_of_birth": "1970-01-01",
                "phone": "+1-202-555-0100"
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let uri = format!("/patients/{id}");

    let read = app.call(Method::GET, &uri, Some(&staff), None).await;
    assert_eq!(read.body["mrn"], json!("SYN-A-000001"));
    assert_eq!(read.body["date_of_birth"], json!("1970-01-01"));
    assert_eq!(read.body["phone"], json!("+1-202-555-0100"));

    let change = json!({ "family_name": "Synthetic-Changed", "phone": null });
    let by_staff = app
        .call(Method::PATCH, &uri, Some(&staff), Some(change.clone()))
        .await;
    assert_eq!(by_staff.status, StatusCode::FORBIDDEN);
    let by_clinician = app
        .call(Method::PATCH, &uri, Some(&clinician), Some(change))
        .await;
    assert_eq!(by_clinician.status, StatusCode::OK);
    assert_eq!(by_clinician.body["family_name"], json!("Synthetic-Changed"));
    assert_eq!(by_clinician.body["given_name"], json!("Testpatient"));
    assert_eq!(by_clinician.body["phone"], json!(null));

    let duplicate = app
        .call(
            Method::POST,
            "/patients",
            Some(&clinician),
            Some(json!({
                "mrn": "SYN-A-000001",
                "given_name": "Other",
                "family_name": "Synthetic",
                "date_of_birth": "1980-01-01"
            })),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn delete_is_soft_and_hides_the_record() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let admin = app.sign_in(&app.user(clinic, Role::Admin).await).await;
    let id = app.patient(&clinician, "SYN-A-000001").await;
    let uri = format!("/patients/{id}");

    let deleted = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let read = app.call(Method::GET, &uri, Some(&clinician), None).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    let again = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    // Kept in the database for the retention rules.
    assert_eq!(
        app.count_as_admin("patients WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn search_is_exact_and_in_the_body() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    let id = app.patient(&token, "SYN-A-000001").await;
    app.patient(&token, "SYN-A-000002").await;

    let search = |body| app.call(Method::POST, "/patients/search", Some(&token), Some(body));
    let by_mrn = search(json!({ "mrn": "SYN-A-000001" })).await;
    assert_eq!(by_mrn.status, StatusCode::OK);
    assert_eq!(by_mrn.body.as_array().unwrap().len(), 1);
    assert_eq!(by_mrn.body[0]["id"], json!(id));

    let by_name = search(json!({
        "given_name": "testpatient",
        "family_name": "SYNTHETIC",
        "date_of_birth": "1970-01-01"
    }))
    .await;
    assert_eq!(by_name.body.as_array().unwrap().len(), 2);

    let partial = search(json!({ "mrn": "SYN-A" })).await;
    assert_eq!(partial.body, json!([]), "exact match only");
    let mixed = search(json!({ "mrn": "SYN-A-000001", "given_name": "Testpatient" })).await;
    assert_eq!(mixed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let name_only = search(json!({ "family_name": "Synthetic" })).await;
    assert_eq!(name_only.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn patients_are_paged_by_opaque_ids() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Staff).await).await;
    for n in 1..=5 {
        app.patient(&token, &format!("SYN-A-{n:06}")).await;
    }
    let mut seen = Vec::new();
    let mut uri = "/patients?limit=2".to_owned();
    loop {
        let page = app.call(Method::GET, &uri, Some(&token), None).await;
        assert_eq!(page.status, StatusCode::OK);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["mrn"].as_str().unwrap().to_owned());
        }
        match page.body["next_after"].as_str() {
            Some(after) => uri = format!("/patients?limit=2&after={after}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);

    let bad = app
        .call(
            Method::GET,
            "/patients?after=SYN-A-000001",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "only ids in the URL");
}
