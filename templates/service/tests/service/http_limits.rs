//! Size and time limits on every request (OWASP API Security Top 10 API4:2023,
//! unrestricted resource consumption): the body, however it is sent, the headers, and the
//! time a request may take.

use std::net::SocketAddr;
use std::time::Duration;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    http::{
        Request, StatusCode,
        header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE},
    },
    routing::get,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use ::service::auth::Role;
use ::service::config::Environment;
use ::service::middleware;

use crate::support::{LOOPBACK, TestApp, offline_app};

#[tokio::test]
async fn oversized_request_body_is_refused_before_it_is_read() {
    let too_big = middleware::MAX_BODY_BYTES + 1;
    let request = Request::post("/healthz")
        .header(CONTENT_LENGTH, too_big)
        .body(Body::from(vec![b'x'; too_big]))
        .unwrap();
    let response = offline_app().oneshot(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(start_paused = true)]
async fn slow_request_times_out() {
    let slow = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(middleware::REQUEST_TIMEOUT + Duration::from_secs(1)).await;
            "too late"
        }),
    );
    let request = Request::get("/slow").body(Body::empty()).unwrap();
    let response = middleware::stack(slow, &[], Environment::Development)
        .oneshot(request)
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
}

// A body sent in chunks announces no length; the limit stops it while it is read, and the
// answer is the same 413, not a validation error.
#[tokio::test]
async fn oversized_chunked_request_body_is_refused_with_413() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    // A body whose length is known only once it is read, as with Transfer-Encoding:
    // chunked: no Content-Length for the limit to refuse up front.
    let body = http_body_util::Full::new(Bytes::from(vec![b' '; middleware::MAX_BODY_BYTES + 1]))
        .map_frame(|frame| frame);
    let request = Request::post("/patients")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)))
        .body(Body::new(body))
        .unwrap();
    assert!(request.headers().get(CONTENT_LENGTH).is_none());
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body, json!({ "error": "payload_too_large" }));
    assert_eq!(app.count_as_admin("patients").await, 0);
}

// One request cannot pin hundreds of kilobytes of headers in memory: past 16 KiB in all,
// 431 Request Header Fields Too Large, in JSON like every error.
#[tokio::test]
async fn oversized_request_headers_are_refused_with_431() {
    assert_eq!(middleware::MAX_HEADER_BYTES, 16 * 1024);
    let with_header = |bytes: usize| {
        Request::get("/healthz")
            .header("x-padding", "a".repeat(bytes))
            .body(Body::empty())
            .unwrap()
    };
    let response = offline_app()
        .oneshot(with_header(200 * 1024))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({ "error": "request_headers_too_large" }));

    // Many headers count together.
    let mut many = Request::get("/healthz");
    for n in 0..20 {
        many = many.header(format!("x-padding-{n}"), "a".repeat(1024));
    }
    let response = offline_app()
        .oneshot(many.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    // Ordinary requests, a large cookie included, are under the limit.
    let response = offline_app().oneshot(with_header(8 * 1024)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
