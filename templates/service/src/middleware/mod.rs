//! The layers every request passes through, outermost first:
//!
//! 1. [`request_log`]: one JSON line per request, never PHI (SPEC 4.2.5);
//! 2. a body size limit, so one request cannot exhaust memory (SPEC 4.2.6);
//! 3. a timeout, so a slow client or handler cannot hold a worker forever (SPEC 4.2.6).

use std::time::Duration;

use axum::{Router, http::StatusCode};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer};

pub mod request_log;

/// The largest request body accepted, in bytes. JSON records are small; larger uploads
/// get their own route with its own limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `routes` in the layers above.
pub fn stack(routes: Router) -> Router {
    // `Router::layer` wraps what is already there: the last layer added runs first.
    routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(request_log::log_request))
}
