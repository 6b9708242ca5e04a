//! What a request log line holds, and what it never holds (HIPAA 164.502(b); OWASP ASVS V7).

use axum::{body::Body, http::Request};
use tower::ServiceExt;

use ::service::middleware::request_log;

use crate::support::{LogCapture, offline_app};

/// Sends `request` through the app and returns the JSON log lines it produced.
async fn logged(request: Request<Body>) -> Vec<serde_json::Value> {
    // Current-thread test runtime: the capture sees everything this request logs.
    let logs = LogCapture::start("info");
    offline_app()
        .oneshot(request)
        .await
        .expect("the router answers");

    logs.text()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each log line is JSON"))
        .collect()
}

#[tokio::test]
async fn request_log_has_route_template_status_latency_and_request_id() {
    let lines = logged(Request::get("/healthz").body(Body::empty()).unwrap()).await;

    let line = lines.iter().find(|l| l["message"] == "request").unwrap();
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/healthz");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].is_number());
    assert_eq!(line["request_id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn request_log_never_holds_paths_queries_headers_or_bodies() {
    let marker = "Synthetic-Patient-0000";
    // A path no route matches, and one that matches a route template with another method.
    for (path, route, status) in [
        ("/records", request_log::UNMATCHED_ROUTE, 404),
        ("/patients", "/patients/{id}", 405),
    ] {
        let request = Request::post(format!("{path}/{marker}?name={marker}"))
            .header("cookie", format!("session={marker}"))
            .header("x-request-id", marker)
            .body(Body::from(
                serde_json::json!({ "name": marker }).to_string(),
            ))
            .unwrap();
        let lines = logged(request).await;

        let line = lines.iter().find(|l| l["message"] == "request").unwrap();
        assert_eq!(line["route"], route);
        assert_eq!(line["status"], status);
        for line in &lines {
            assert!(!line.to_string().contains(marker), "leaked into {line}");
        }
    }
}
