//! Cross-site request forgery: a browser attaches the session cookie to every request to
//! this service, whichever site's page made it. SameSite=Strict keeps it off most of them;
//! this layer refuses the rest (OWASP ASVS 4.2.2; OWASP CSRF Prevention Cheat Sheet,
//! "Verifying Origin with standard headers").
//!
//! An unsafe request (POST, PUT, PATCH, DELETE) whose credentials come from the browser is
//! answered 403 when the browser says another site made it: an `Origin` other than this
//! service's own (the scheme https, or http in development, and the request's `Host`), or
//! a `Sec-Fetch-Site` other than `same-origin` or `none`. Bodyless routes are covered
//! like the rest. The browser's credentials decide a request that presents the session
//! cookie, and one that presents no token and would be answered with a cookie (login).
//! A bearer token is sent only by a script that holds it (no other site's page can make a
//! browser add one), and requests with neither header, from curl or scripts, are no
//! browser's: neither is refused.
//!
//! Behind a TLS proxy, the proxy must pass the client's `Host` on (nginx:
//! `proxy_set_header Host $host;`), or every browser write is refused.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::auth::session::{SessionToken, Transport};
use crate::config::Environment;
use crate::error::ApiError;

/// The `Sec-Fetch-Site` values of a request this service's own pages made, or the user
/// (a typed address, a bookmark).
const OWN_FETCH_SITES: [&str; 2] = ["same-origin", "none"];

/// Refuses a cross-site unsafe request that rides on the browser's credentials.
pub async fn refuse_cross_site(
    State(environment): State<Environment>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if request.method().is_safe()
        || !rides_on_browser_credentials(headers)
        || from_own_site(headers, environment)
    {
        return next.run(request).await;
    }
    ApiError::CrossSite.into_response()
}

/// Whether the browser's credentials decide the request: it presents the session cookie,
/// or presents no token and asks for a cookie session (the default at login).
fn rides_on_browser_credentials(headers: &HeaderMap) -> bool {
    match SessionToken::from_headers(headers) {
        Some((_, Transport::Bearer)) => false,
        Some((_, Transport::Cookie)) => true,
        None => Transport::requested(headers) == Transport::Cookie,
    }
}

/// Whether every `Origin` and `Sec-Fetch-Site` the request carries says this service's own
/// site made it. Neither header: no browser's request, so nothing says otherwise.
fn from_own_site(headers: &HeaderMap, environment: Environment) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origins = headers
        .get_all(header::ORIGIN)
        .iter()
        .all(|origin| host.is_some_and(|host| is_own_origin(origin, host, environment)));
    let fetch_sites = headers.get_all("sec-fetch-site").iter().all(|site| {
        site.to_str().is_ok_and(|site| {
            OWN_FETCH_SITES
                .iter()
                .any(|own| site.eq_ignore_ascii_case(own))
        })
    });
    origins && fetch_sites
}

/// Whether `origin` is `https://{host}` (or `http://{host}` in development), default
/// ports aside. `null` and anything else are another site's.
fn is_own_origin(origin: &HeaderValue, host: &str, environment: Environment) -> bool {
    let Some((scheme, authority)) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        return false;
    };
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else if scheme.eq_ignore_ascii_case("http") && environment == Environment::Development {
        ":80"
    } else {
        return false;
    };
    let without_default = |authority: &'_ str| -> String {
        authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_ascii_lowercase()
    };
    !authority.is_empty() && without_default(authority) == without_default(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(origin: &str, host: &str, environment: Environment) -> bool {
        is_own_origin(&HeaderValue::from_str(origin).unwrap(), host, environment)
    }

    #[test]
    fn the_own_origin_is_the_host_over_https_or_http_in_development() {
        use Environment::{Development, Production};
        for environment in [Development, Production] {
            assert!(own(
                "https://clinic.example.org",
                "clinic.example.org",
                environment
            ));
            assert!(own(
                "https://Clinic.Example.org:443",
                "clinic.example.org",
                environment
            ));
            assert!(own("https://127.0.0.1:3000", "127.0.0.1:3000", environment));
            assert!(!own(
                "https://evil.example.org",
                "clinic.example.org",
                environment
            ));
            assert!(!own(
                "https://clinic.example.org:8443",
                "clinic.example.org",
                environment
            ));
            assert!(!own(
                "https://clinic.example.org.evil",
                "clinic.example.org",
                environment
            ));
            assert!(!own("null", "clinic.example.org", environment));
            assert!(!own(
                "ftp://clinic.example.org",
                "clinic.example.org",
                environment
            ));
        }
        assert!(own("http://localhost:3000", "localhost:3000", Development));
        assert!(!own(
            "http://clinic.example.org",
            "clinic.example.org",
            Production
        ));
    }
}
