//! Liveness, and what the service says about requests it has no route for.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use tower::ServiceExt;

use ::service::middleware::request_log;

use crate::support::offline_app;

#[tokio::test]
async fn healthz_is_ok_and_says_nothing_else() {
    let request = Request::get("/healthz").body(Body::empty()).unwrap();
    let response = offline_app().oneshot(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn unknown_route_is_404_without_a_body() {
    let request = Request::get("/no-such-route").body(Body::empty()).unwrap();
    let response = offline_app().oneshot(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(body.is_empty());
}

#[tokio::test]
async fn client_supplied_request_id_is_replaced() {
    let forged = "synthetic-patient-in-a-header";
    let request = Request::get("/healthz")
        .header(request_log::REQUEST_ID_HEADER, forged)
        .body(Body::empty())
        .unwrap();
    let response = offline_app().oneshot(request).await.unwrap();

    let id = response.headers()[request_log::REQUEST_ID_HEADER]
        .to_str()
        .unwrap();
    assert_ne!(id, forged);
    assert_eq!(id.len(), 36, "a server-made UUID, got {id:?}");
}
