//! Login throttling (SPEC 4.2.1; HIPAA 164.308(a)(5)(ii)(C) log-in monitoring).
//!
//! Failures are counted per account *and* source address. After [`FREE_FAILURES`] the
//! pair is locked for [`FIRST_LOCK`], doubling with each further failure up to
//! [`MAX_LOCK`]; a success, or a day without failures, clears the count. So a guesser
//! gets a handful of tries per address per quarter hour, while the account's owner, from
//! their own address, is never locked out by someone else's failures, and nobody is locked
//! out for longer than [`MAX_LOCK`] at a time. A locked pair is refused before the password
//! is even checked, with the same answer whether or not the account exists.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::db::{self, Lookup};
use crate::error::ApiError;

/// Failures allowed before the first lock.
pub const FREE_FAILURES: i32 = 5;
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::seconds(30);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::minutes(15);

/// The throttle key for `email` from `address`: a hash, so the table holds neither.
pub fn key(email: &str, address: IpAddr) -> String {
    let mut hasher = Sha256::new();
    hasher.update(email.as_bytes());
    hasher.update([0u8]);
    hasher.update(address.to_string().as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// How long to lock after the `failures`-th consecutive failure.
pub fn lock_after(failures: i32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?;
    let doublings = u32::try_from(over).ok()?.min(10);
    Some((FIRST_LOCK * 2_i32.pow(doublings)).min(MAX_LOCK))
}

/// Refuses with 429 while the key is locked.
pub async fn check(tx: &mut PgConnection, key: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    db::set_lookup(tx, Lookup::ThrottleKey, key).await?;
    let locked_until = sqlx::query_scalar!(
        "SELECT locked_until FROM login_throttle WHERE key = decode($1, 'hex')",
        key
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    db::set_lookup(tx, Lookup::ThrottleKey, "").await?;
    match locked_until {
        Some(until) if until > now => Err(ApiError::too_many_attempts(until - now)),
        _ => Ok(()),
    }
}

/// Counts a failure, and locks the key when it has failed too often.
pub async fn record_failure(
    tx: &mut PgConnection,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db::set_lookup(tx, Lookup::ThrottleKey, key).await?;
    let failures = sqlx::query_scalar!(
        "INSERT INTO login_throttle (key, failures, last_failure_at)
         VALUES (decode($1, 'hex'), 1, $2)
         ON CONFLICT (key) DO UPDATE
             SET failures = login_throttle.failures + 1, last_failure_at = $2
         RETURNING failures",
        key,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(lock) = lock_after(failures) {
        sqlx::query!(
            "UPDATE login_throttle SET locked_until = $2 WHERE key = decode($1, 'hex')",
            key,
            now + lock
        )
        .execute(&mut *tx)
        .await?;
    }
    db::set_lookup(tx, Lookup::ThrottleKey, "").await?;
    Ok(())
}

/// Clears the key after a successful login, and sweeps keys a day past their last failure.
pub async fn clear(tx: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    db::set_lookup(tx, Lookup::ThrottleKey, key).await?;
    sqlx::query!(
        "DELETE FROM login_throttle
         WHERE key = decode($1, 'hex') OR last_failure_at < now() - interval '1 day'",
        key
    )
    .execute(&mut *tx)
    .await?;
    db::set_lookup(tx, Lookup::ThrottleKey, "").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_after_the_free_failures_and_are_capped() {
        for failures in 1..FREE_FAILURES {
            assert_eq!(lock_after(failures), None);
        }
        assert_eq!(lock_after(FREE_FAILURES), Some(FIRST_LOCK));
        assert_eq!(lock_after(FREE_FAILURES + 1), Some(FIRST_LOCK * 2));
        assert_eq!(lock_after(FREE_FAILURES + 50), Some(MAX_LOCK));
        assert_eq!(lock_after(i32::MAX), Some(MAX_LOCK));
    }

    #[test]
    fn keys_differ_by_account_and_by_address() {
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "127.0.0.2".parse().unwrap();
        let a = key("clinician@clinic-a.example.org", here);
        assert_eq!(a.len(), 64);
        assert_ne!(a, key("clinician@clinic-a.example.org", there));
        assert_ne!(a, key("staff@clinic-a.example.org", here));
    }
}
