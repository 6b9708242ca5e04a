//! Rate limit on the authentication routes per client address, in memory (SPEC 4.2.6;
//! OWASP ASVS 2.2.1 anti-automation).
//!
//! The login throttle ([`super::throttle`]) stops guessing one account's password; this
//! limit stops one address from trying many accounts (password spraying) or hammering the
//! TOTP route. Each address gets [`MAX_REQUESTS`] calls to `/auth/login` and `/auth/mfa`
//! per [`WINDOW`]; past that it is answered 429 with `Retry-After`, before any database
//! work or password hashing. The table holds at most [`MAX_ADDRESSES`] addresses: when it
//! is full, expired windows are swept, then the oldest window makes room.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;
use crate::routes::ClientAddr;
use crate::state::AppState;

/// Calls each address may make to the authentication routes per [`WINDOW`].
pub const MAX_REQUESTS: u32 = 30;
/// The length of a window, from an address's first call in it.
pub const WINDOW: Duration = Duration::minutes(1);
/// Addresses tracked at once; bounds the memory an address flood can take.
pub const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    calls: u32,
}

/// The calls per address in the current windows; shared by every request.
#[derive(Debug, Clone, Default)]
pub struct AuthRateLimit(Arc<Mutex<HashMap<IpAddr, Window>>>);

impl AuthRateLimit {
    /// Counts a call from `address` at `now`; refuses it when the address is over the limit.
    pub fn check(&self, address: IpAddr, now: DateTime<Utc>) -> Result<(), ApiError> {
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&address) {
            windows.retain(|_, window| now - window.started < WINDOW);
            if windows.len() >= MAX_ADDRESSES {
                let oldest = windows
                    .iter()
                    .min_by_key(|(_, window)| window.started)
                    .map(|(address, _)| *address);
                if let Some(oldest) = oldest {
                    windows.remove(&oldest);
                }
            }
        }
        let window = windows.entry(address).or_insert(Window {
            started: now,
            calls: 0,
        });
        if now - window.started >= WINDOW {
            *window = Window {
                started: now,
                calls: 0,
            };
        }
        if window.calls >= MAX_REQUESTS {
            return Err(ApiError::too_many_attempts(window.started + WINDOW - now));
        }
        window.calls += 1;
        Ok(())
    }
}

/// An authentication call within its address's limit: handlers that take it are
/// rate limited.
pub struct WithinRateLimit;

impl FromRequestParts<AppState> for WithinRateLimit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(address) = ClientAddr::from_request_parts(parts, state).await?;
        state
            .auth_rate_limit
            .check(address, state.clock.now())
            .map(|()| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_over_the_limit_waits_for_its_window_and_others_do_not() {
        let limit = AuthRateLimit::default();
        let start = Utc::now();
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..MAX_REQUESTS {
            assert_eq!(limit.check(here, start), Ok(()));
        }
        let later = start + Duration::seconds(20);
        assert_eq!(
            limit.check(here, later),
            Err(ApiError::TooManyAttempts {
                retry_after_secs: 40
            })
        );
        assert_eq!(limit.check(there, later), Ok(()));
        assert_eq!(limit.check(here, start + WINDOW), Ok(()));
    }

    #[test]
    fn an_address_flood_cannot_grow_the_table_without_bound() {
        let limit = AuthRateLimit::default();
        let now = Utc::now();
        for n in 0..(MAX_ADDRESSES as u32 + 100) {
            let address = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert_eq!(limit.check(address, now), Ok(()));
        }
        assert_eq!(limit.0.lock().unwrap().len(), MAX_ADDRESSES);
    }
}
