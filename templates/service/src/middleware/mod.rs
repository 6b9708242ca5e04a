//! The layers every request passes through, outermost first:
//!
//! 1. [`request_log`]: one JSON line per request, never PHI (SPEC 4.2.5);
//! 2. [`security_headers`]: HSTS, CSP, nosniff, no-referrer, no framing, no caching, on
//!    every response, errors included (SPEC 4.2.6);
//! 3. CORS, closed unless `CORS_ALLOWED_ORIGINS` lists origins (SPEC 4.2.6);
//! 4. a body size limit, so one request cannot exhaust memory (SPEC 4.2.6);
//! 5. a timeout, so a slow client or handler cannot hold a worker forever (SPEC 4.2.6).

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
};

pub mod request_log;
pub mod security_headers;

/// The largest request body accepted, in bytes. JSON records are small; larger uploads
/// get their own route with its own limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `routes` in the layers above; `cors_allowed_origins` are the exact origins whose
/// scripts may call the API (none: no cross-origin access at all).
pub fn stack(routes: Router, cors_allowed_origins: &[HeaderValue]) -> Router {
    // `Router::layer` wraps what is already there: the last layer added runs first.
    let routes = routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let routes = match cors(cors_allowed_origins) {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    security_headers::layer(routes).layer(axum::middleware::from_fn(request_log::log_request))
}

/// Cross-origin access for the listed origins only, without cookies: a browser client on
/// another origin authenticates with a bearer token. Without origins there is no CORS
/// layer, so no response carries `Access-Control-Allow-Origin` and preflights are refused
/// (405). OWASP ASVS 14.5.3.
fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    (!origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-session-transport"),
            ])
            .expose_headers([HeaderName::from_static(request_log::REQUEST_ID_HEADER)])
            .max_age(Duration::from_secs(600))
    })
}
