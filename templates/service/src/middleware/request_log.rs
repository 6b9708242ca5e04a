//! Structured request logs that cannot leak PHI (OWASP ASVS V7; HIPAA 164.312(b) is the
//! audit log's job, not this log's).
//!
//! Each request gets one JSON line with its method, route template, status, latency and
//! request id. Never the raw path or query string (`/patients/{id}` is logged, never the
//! id), never headers (cookies, tokens), never bodies.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};

use crate::request::RequestId;

/// Response header that carries the request id, so a user's report can be matched to
/// the log line.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What the log says for a request that matched no route: its path could hold anything.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

pub async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = RequestId::generate();
    request.headers_mut().remove(REQUEST_ID_HEADER);
    request.extensions_mut().insert(request_id);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE.to_owned(), |path| path.as_str().to_owned());

    let mut response = next.run(request).await;

    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        // Milliseconds, to the microsecond.
        latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        request_id = %request_id,
        "request"
    );
    response
}
