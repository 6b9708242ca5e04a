//! Sessions: the token, how it travels, when it ends, and [`authenticate`], which finds
//! the session a request presents ([`crate::auth::Caller`] builds on it). NIST SP
//! 800-63B; HIPAA 164.312(a)(2)(iii) automatic logoff, 164.312(d) authentication.
//!
//! A token is 256 bits from the operating system's CSPRNG, sent in a `__Host-` cookie
//! (`HttpOnly; Secure; SameSite=Strict; Path=/`) or, for API clients that asked for it at
//! login, as `Authorization: Bearer`. The database stores its SHA-256 only. A session ends
//! on logout, after the idle timeout, at the absolute timeout, and when its account is
//! disabled; each end deletes the row, so it is over on the server.

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::roles::Role;
use crate::auth::store::session::{self as sessions, SessionRecord};
use crate::auth::store::user;
use crate::config::SessionPolicy;
use crate::crypto::hex;
use crate::db::{self, Tx};
use crate::error::ApiError;
use crate::ids::{ClinicId, UserId};
use crate::state::AppState;

/// The session cookie. `__Host-` makes browsers refuse it unless it is `Secure`, has
/// `Path=/` and no `Domain`, so no other host or path can set or read it.
pub const COOKIE_NAME: &str = "__Host-session";

/// Header by which an API client asks, at login, for its token in the response body (to
/// send back as `Authorization: Bearer`) instead of a cookie.
pub const TRANSPORT_HEADER: &str = "x-session-transport";

/// How long a password-only session may wait for its TOTP code.
pub const MFA_PENDING_LIFETIME: Duration = Duration::minutes(5);

/// How long a new account's first session may take to confirm its TOTP enrollment.
pub const ENROLLMENT_LIFETIME: Duration = Duration::minutes(15);

/// Wrong TOTP codes a pending session survives; the next ends it, and a new login (with
/// its own throttling) is needed.
pub const MFA_MAX_FAILURES: i32 = 5;

/// How a token reaches the server and goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Cookie,
    Bearer,
}

impl Transport {
    /// What the client asked for at login: bearer only when it said so.
    pub fn requested(headers: &HeaderMap) -> Self {
        match headers.get(TRANSPORT_HEADER) {
            Some(value) if value.as_bytes().eq_ignore_ascii_case(b"bearer") => Self::Bearer,
            _ => Self::Cookie,
        }
    }
}

/// An opaque session token: 32 random bytes, hex.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

impl SessionToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, ApiError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| ApiError::Internal)?;
        Ok(Self(hex(&bytes)))
    }

    /// The token as sent to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database stores.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The stored hash, hex, for the lookup setting.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash())
    }

    /// The token a request presents, and how: a bearer header wins over the cookie.
    pub fn from_headers(headers: &HeaderMap) -> Option<(Self, Transport)> {
        let well_formed = |token: &str| {
            (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| Self(token.to_ascii_lowercase()))
        };
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value.to_str().ok()?.strip_prefix("Bearer ")?;
            return well_formed(token.trim()).map(|token| (token, Transport::Bearer));
        }
        cookie(headers, COOKIE_NAME)
            .and_then(well_formed)
            .map(|token| (token, Transport::Cookie))
    }

    /// The `Set-Cookie` value that hands this token to a browser for `max_age`.
    pub fn cookie(&self, max_age: Duration) -> HeaderValue {
        let cookie = format!(
            "{COOKIE_NAME}={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
            self.0,
            max_age.num_seconds().max(0)
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| clear_cookie())
    }
}

/// The value of the cookie `name` that a request presents, if it presents one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0",
    )
}

/// Whether `session` has ended by `now` under `policy` (HIPAA 164.312(a)(2)(iii)
/// automatic logoff): a session that still owes its enrollment or second factor ends after
/// minutes, any other after the idle or the absolute timeout.
pub fn has_ended(policy: &SessionPolicy, session: &SessionRecord, now: DateTime<Utc>) -> bool {
    if session.enrolling {
        return now >= session.created_at + ENROLLMENT_LIFETIME;
    }
    if session.mfa_pending {
        return now >= session.created_at + MFA_PENDING_LIFETIME;
    }
    now >= session.last_seen_at + policy.idle || now >= session.created_at + policy.absolute
}

/// How long the cookie of a session started now may live: its absolute timeout.
pub fn cookie_lifetime(policy: &SessionPolicy, stage: sessions::Stage) -> Duration {
    match stage {
        sessions::Stage::Enrolling => ENROLLMENT_LIFETIME,
        sessions::Stage::MfaPending => MFA_PENDING_LIFETIME,
        sessions::Stage::Complete { .. } => policy.absolute,
    }
}

/// The signed-in user a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub clinic_id: ClinicId,
    pub role: Role,
    pub email: String,
}

/// A live session and its transaction, scoped to the session's clinic and user. The
/// session may still owe its TOTP code; [`Caller`] refuses those.
pub struct Authenticated {
    pub session: SessionRecord,
    pub user: CurrentUser,
    pub transport: Transport,
    pub tx: Tx,
    /// The user's events of this request.
    pub audit: AuditContext,
}

/// Finds the session a request presents and opens its scoped transaction. An ended
/// session is deleted on the way (and the account's, if it is disabled), and the end is
/// audited: a timeout, or a denial for a disabled account.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
) -> Result<Authenticated, ApiError> {
    let (token, transport) = SessionToken::from_headers(headers).ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let session = sessions::find_by_token(&mut tx, &token.hash_hex())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    db::set_scope(&mut tx, session.clinic_id, Some(session.user_id)).await?;
    let account = user::get(&mut tx, session.user_id).await?;
    let mut context = AuditContext {
        clinic: session.clinic_id,
        actor: Some(session.user_id),
        role: account.as_ref().map(|account| account.role.as_str()),
        meta: Some(meta),
        at: now,
    };
    let account = match account {
        Some(account) if !account.disabled && !has_ended(&state.sessions, &session, now) => account,
        other => {
            // HIPAA 164.312(b), 164.312(a)(2)(iii): the end of a session is audited.
            let ended = if other.as_ref().is_some_and(|account| account.disabled) {
                user::disable(&mut tx, session.user_id).await?;
                Event::new(AuditAction::Denied, Outcome::Denied)
            } else {
                sessions::delete(&mut tx, session.id).await?;
                Event::new(AuditAction::Timeout, Outcome::Success)
            };
            audit::record(&mut tx, &context, &[ended.on("sessions", Some(session.id))]).await?;
            tx.commit().await?;
            return Err(ApiError::Unauthorized);
        }
    };
    context.role = Some(account.role.as_str());
    Ok(Authenticated {
        audit: context,
        user: CurrentUser {
            id: account.id,
            clinic_id: account.clinic_id,
            role: account.role,
            email: account.email,
        },
        session,
        transport,
        tx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_stored_hashed() {
        let token = SessionToken::generate().unwrap();
        assert_eq!(token.as_str().len(), 64);
        assert_ne!(token, SessionToken::generate().unwrap());
        assert_ne!(token.hash_hex(), token.as_str());
        assert_eq!(format!("{token:?}"), "SessionToken([redacted])");
    }

    #[test]
    fn cookie_is_host_prefixed_http_only_secure_strict() {
        let token = SessionToken::generate().unwrap();
        let cookie = token.cookie(Duration::hours(8));
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("__Host-session="));
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=28800",
        ] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Domain"));
    }

    #[test]
    fn token_is_read_from_bearer_or_cookie() {
        let token = SessionToken::generate().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {COOKIE_NAME}={}", token.as_str()))
                .unwrap(),
        );
        assert_eq!(
            SessionToken::from_headers(&headers),
            Some((token.clone(), Transport::Cookie))
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", token.as_str())).unwrap(),
        );
        assert_eq!(
            SessionToken::from_headers(&headers),
            Some((token, Transport::Bearer))
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer short"),
        );
        assert_eq!(SessionToken::from_headers(&headers), None);
    }
}
