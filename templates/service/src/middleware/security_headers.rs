//! Response headers that tell browsers how to treat this API (OWASP ASVS
//! 14.4). Set on every response, including errors, 404s and the layers' own 408 and 413;
//! a handler that sets one of them itself (none does) keeps its value.

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::set_header::SetResponseHeaderLayer;

/// The headers and their values.
pub const HEADERS: [(HeaderName, &str); 6] = [
    // HTTPS only, for two years, subdomains too. HIPAA 164.312(e)(1) transmission security.
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    // A JSON API loads nothing and is framed by nobody: a response rendered as a page
    // runs no script. OWASP ASVS 14.4.3.
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    // No MIME sniffing of JSON into HTML. OWASP ASVS 14.4.4.
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // URLs never travel to other sites in a Referer. OWASP ASVS 14.4.5.
    (header::REFERRER_POLICY, "no-referrer"),
    // No framing by older browsers that ignore frame-ancestors (clickjacking). OWASP ASVS 14.4.7.
    (header::X_FRAME_OPTIONS, "DENY"),
    // Responses carry PHI and session tokens: no browser or proxy cache keeps them.
    // HIPAA 164.312(a)(1); OWASP ASVS 8.2.1.
    (header::CACHE_CONTROL, "no-store"),
];

/// Wraps `routes` so every response carries [`HEADERS`].
pub fn layer(routes: Router) -> Router {
    HEADERS.into_iter().fold(routes, |routes, (name, value)| {
        routes.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}
