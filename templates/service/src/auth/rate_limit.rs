//! Rate limit on the authentication routes per source network, kept in PostgreSQL so every
//! service instance enforces one limit and a restart resets nothing (OWASP ASVS V2.2.1
//! anti-automation; NIST SP 800-63B §5.2.2).
//!
//! The sign-in throttle ([`super::throttle`]) stops guessing one account's password; this
//! limit stops one network from trying many accounts (password spraying) or hammering the
//! TOTP route. Each network (an IPv4 address, an IPv6 /64) gets [`MAX_REQUESTS`] calls to
//! `/auth/login` and `/auth/mfa` per [`WINDOW`]; past that it is answered 429 with
//! `Retry-After`, before any other database work or password hashing. Counting is one
//! statement (`app.count_auth_call`, migrations/0010_security_hardening.sql).

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::throttle::network_key;
use crate::error::ApiError;
use crate::request::ClientAddr;
use crate::state::AppState;

/// Calls each network may make to the authentication routes per [`WINDOW`].
pub const MAX_REQUESTS: u32 = 30;
/// The length of a window, from a network's first call in it.
pub const WINDOW: Duration = Duration::minutes(1);

/// Counts a call from `address` at `now`; refuses it when its network is over the limit.
pub async fn check(pool: &PgPool, address: IpAddr, now: DateTime<Utc>) -> Result<(), ApiError> {
    let key = network_key(address);
    let window = sqlx::query!(
        r#"SELECT call_count AS "calls!", window_start AS "started!"
           FROM app.count_auth_call($1, $2, $3)"#,
        key.as_slice(),
        now,
        i32::try_from(WINDOW.num_seconds()).unwrap_or(i32::MAX)
    )
    .fetch_one(pool)
    .await?;
    if u32::try_from(window.calls).unwrap_or(u32::MAX) > MAX_REQUESTS {
        return Err(ApiError::too_many_attempts(window.started + WINDOW - now));
    }
    Ok(())
}

/// An authentication call within its network's limit: handlers that take it are rate
/// limited.
pub struct WithinRateLimit;

impl FromRequestParts<AppState> for WithinRateLimit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(address) = ClientAddr::from_request_parts(parts, state).await?;
        check(&state.pool, address, state.clock.now())
            .await
            .map(|()| Self)
    }
}
