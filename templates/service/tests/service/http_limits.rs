//! Body size and time limits on every request (SPEC 4.2.6).

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header::CONTENT_LENGTH},
    routing::get,
};
use tower::ServiceExt;

use ::service::middleware;

use crate::support::offline_app;

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
    let response = middleware::stack(slow, &[]).oneshot(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
}
