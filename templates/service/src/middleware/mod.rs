//! The layers every request passes through, outermost first:
//!
//! 1. [`request_log`]: one JSON line per request, never PHI (HIPAA 164.502(b));
//! 2. [`security_headers`]: HSTS, CSP, nosniff, no-referrer, no framing, no caching, on
//!    every response, errors included (OWASP ASVS 14.4);
//! 3. [`header_limit`]: 431 for headers over 16 KiB in all (OWASP API4:2023);
//! 4. CORS, closed unless `CORS_ALLOWED_ORIGINS` lists origins (OWASP ASVS 14.5.3);
//! 5. [`cross_site`]: 403 for a write another site's page makes with the session cookie
//!    (OWASP ASVS 4.2.2);
//! 6. a body size limit, so one request cannot exhaust memory: 413, whether the body
//!    announces its length or comes in chunks (OWASP API4:2023);
//! 7. a timeout, so a slow client or handler cannot hold a worker forever (OWASP
//!    API4:2023).

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

use crate::config::Environment;

pub mod cross_site;
pub mod header_limit;
pub mod request_log;
pub mod security_headers;

pub use header_limit::MAX_HEADER_BYTES;

/// The largest request body accepted, in bytes. JSON records are small; larger uploads
/// get their own route with its own limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `routes` in the layers above; `cors_allowed_origins` are the exact origins whose
/// scripts may call the API (none: no cross-origin access at all), and `environment`
/// says whether the service's own origin may be plain http (development only).
pub fn stack(
    routes: Router,
    cors_allowed_origins: &[HeaderValue],
    environment: Environment,
) -> Router {
    // `Router::layer` wraps what is already there: the last layer added runs first.
    let routes = routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            environment,
            cross_site::refuse_cross_site,
        ));
    let routes = match cors(cors_allowed_origins) {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    let routes = routes.layer(axum::middleware::from_fn(header_limit::limit_headers));
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
