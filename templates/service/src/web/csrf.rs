//! Form tokens against cross-site request forgery (OWASP ASVS 3.5.3, 4.2.2; OWASP CSRF
//! Prevention Cheat Sheet, "Synchronizer Token Pattern").
//!
//! A signed-in page's forms carry a token derived from the session's own token:
//! HMAC-SHA256 keyed with the session token, over a fixed label. It is bound to the
//! session (another session's, or none, does not match), needs no storage, ends with the
//! session, and reveals nothing of the session token it came from: a page may show it,
//! where the cookie is `HttpOnly`.
//!
//! The sign-in forms come before any session (login CSRF: another site signing a
//! browser in to the attacker's account). They carry a token derived in the same way from
//! a pre-session cookie, [`PRE_SESSION_COOKIE`]: random, `__Host-`, `HttpOnly`,
//! `SameSite=Strict`, ten minutes. The POST must bring both, matching.

use axum::http::{HeaderMap, HeaderValue};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::session::{SessionToken, Transport, cookie};
use crate::crypto::hex;
use crate::error::ApiError;

/// The name of the form field that carries the token.
pub const FIELD: &str = "csrf";

/// The cookie of a browser that is about to sign in.
pub const PRE_SESSION_COOKIE: &str = "__Host-pre-session";

/// How long a sign-in form stays usable, in seconds.
pub const PRE_SESSION_SECONDS: i64 = 600;

/// The token of the forms of the session `token`.
pub fn session_form_token(token: &SessionToken) -> String {
    derive(token.as_str(), b"medforge web form token v1")
}

/// The token of the sign-in forms of a browser holding `pre_session`.
pub fn pre_session_form_token(pre_session: &PreSession) -> String {
    derive(&pre_session.0, b"medforge sign-in form token v1")
}

fn derive(key: &str, label: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(label);
    hex(&mac.finalize().into_bytes())
}

/// Whether `presented` is `expected`, compared in constant time (no timing oracle).
pub fn matches(presented: Option<&str>, expected: &str) -> bool {
    presented.is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(expected.as_bytes())))
}

/// The session token a page request presents in the cookie. Pages are for browsers: a
/// bearer token is refused here (an API client has no use for a page).
pub fn session_cookie(headers: &HeaderMap) -> Result<SessionToken, ApiError> {
    match SessionToken::from_headers(headers) {
        Some((token, Transport::Cookie)) => Ok(token),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The random value of [`PRE_SESSION_COOKIE`]: 256 bits from the operating system's
/// CSPRNG, hex.
#[derive(Clone, PartialEq, Eq)]
pub struct PreSession(String);

impl std::fmt::Debug for PreSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreSession([redacted])")
    }
}

impl PreSession {
    /// The one the browser holds, if it holds a well-formed one.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        cookie(headers, PRE_SESSION_COOKIE)
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|value| Self(value.to_ascii_lowercase()))
    }

    /// A fresh one.
    pub fn generate() -> Result<Self, ApiError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| ApiError::Internal)?;
        Ok(Self(hex(&bytes)))
    }

    /// The `Set-Cookie` value that gives it to the browser.
    pub fn cookie(&self) -> HeaderValue {
        let cookie = format!(
            "{PRE_SESSION_COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={PRE_SESSION_SECONDS}",
            self.0
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| clear_pre_session())
    }
}

/// The `Set-Cookie` value that removes [`PRE_SESSION_COOKIE`] once the browser signed in.
pub fn clear_pre_session() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-pre-session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn a_form_token_is_bound_to_its_session_and_does_not_reveal_it() {
        let one = SessionToken::generate().unwrap();
        let other = SessionToken::generate().unwrap();
        let token = session_form_token(&one);
        assert_eq!(token, session_form_token(&one));
        assert_ne!(token, session_form_token(&other));
        assert!(!token.contains(one.as_str()));
        assert_eq!(token.len(), 64);
        assert!(matches(Some(&token), &token));
        assert!(!matches(Some(&session_form_token(&other)), &token));
        assert!(!matches(None, &token));
        assert!(!matches(Some(""), &token));
    }

    #[test]
    fn sign_in_tokens_differ_from_session_tokens_of_the_same_value() {
        let pre = PreSession::generate().unwrap();
        let cookie = pre.cookie();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("__Host-pre-session="));
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(cookie.split(';').next().unwrap()).unwrap(),
        );
        assert_eq!(PreSession::from_headers(&headers), Some(pre.clone()));
        assert_eq!(format!("{pre:?}"), "PreSession([redacted])");
    }
}
