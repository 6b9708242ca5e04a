//! Sign-in throttling, kept in PostgreSQL so every service instance enforces one limit and
//! a restart resets nothing (HIPAA 164.308(a)(5)(ii)(C) log-in monitoring; NIST SP
//! 800-63B §5.2.2 rate limiting; OWASP ASVS V2.2.1).
//!
//! Two counters, both advanced **before** the password or code is checked, in the
//! transaction that checks the limit (a row lock serializes them), so a parallel burst
//! cannot slip past; only a completed sign-in (the second factor included) clears them:
//!
//! - **Per account and source network** ([`pair_key`]): after [`FREE_FAILURES`] the pair
//!   is locked for [`FIRST_LOCK`], doubling up to [`MAX_LOCK`]. Locked pairs are refused
//!   with 429 whether or not the account exists.
//! - **Per account, across every network** (`users.failed_sign_ins`): after
//!   [`ACCOUNT_FREE_FAILURES`] the account is locked for [`ACCOUNT_FIRST_LOCK`], doubling
//!   up to [`ACCOUNT_MAX_LOCK`], for every network but the one it last completed a sign-in
//!   from, so a botnet cannot lock the owner out of their own network. At
//!   [`ACCOUNT_MAX_FAILURES`] consecutive failures (NIST's ceiling) sign-in to the account
//!   is suspended everywhere until a clinic administrator lets the owner back in with
//!   `unlock-user` (audited); reaching it takes days of guessing, which the audit trail
//!   shows long before. These refusals answer the same 401 as a wrong password, so they
//!   reveal nothing about which accounts exist.
//!
//! IPv6 sources are grouped by /64, the block one subscriber is usually given.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::db::{self, Lookup};
use crate::error::ApiError;
use crate::ids::{UserId, to_uuid};

/// Failures one account may have from one network before the first lock.
pub const FREE_FAILURES: i32 = 5;
/// The first lock of an account and network; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::seconds(30);
/// The longest lock of an account and network.
pub const MAX_LOCK: Duration = Duration::minutes(15);

/// Failures one account may have across all networks before it is locked for the
/// networks it was not last signed in from.
pub const ACCOUNT_FREE_FAILURES: i32 = 10;
/// The first account-wide lock; each further failure doubles it.
pub const ACCOUNT_FIRST_LOCK: Duration = Duration::minutes(1);
/// The longest account-wide lock.
pub const ACCOUNT_MAX_LOCK: Duration = Duration::hours(1);
/// Consecutive failures after which sign-in is suspended until `unlock-user` (NIST SP
/// 800-63B §5.2.2: no more than 100).
pub const ACCOUNT_MAX_FAILURES: i32 = 100;

/// The network an address belongs to for throttling: an IPv4 address itself (or the one
/// an IPv4-mapped IPv6 address carries), an IPv6 address's /64.
pub fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// SHA-256 of `purpose`, then each part after a separator: the tables hold no email
/// address and no network.
fn digest(purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    for part in parts {
        hasher.update([0u8]);
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The throttle key of `email` from `address`'s network, hex.
pub fn pair_key(email: &str, address: IpAddr) -> String {
    let network = network(address).to_string();
    crate::crypto::hex(&digest("sign-in", &[email.as_bytes(), network.as_bytes()]))
}

/// The key of `address`'s network, for the rate limit and an account's usual network.
pub fn network_key(address: IpAddr) -> [u8; 32] {
    digest("network", &[network(address).to_string().as_bytes()])
}

/// How long a pair is locked after its `attempts`-th consecutive attempt without success.
pub fn lock_after(attempts: i32) -> Option<Duration> {
    backoff(attempts, FREE_FAILURES, FIRST_LOCK, MAX_LOCK)
}

/// How long an account is locked after its `attempts`-th consecutive attempt.
pub fn account_lock_after(attempts: i32) -> Option<Duration> {
    backoff(
        attempts,
        ACCOUNT_FREE_FAILURES,
        ACCOUNT_FIRST_LOCK,
        ACCOUNT_MAX_LOCK,
    )
}

fn backoff(attempts: i32, free: i32, first: Duration, max: Duration) -> Option<Duration> {
    let over = attempts.checked_sub(free)?;
    let doublings = u32::try_from(over).ok()?.min(16);
    Some((first * 2_i32.pow(doublings)).min(max))
}

/// Whether a sign-in attempt may go on to be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The attempt was counted; go on and check it.
    Counted,
    /// Locked until then; the attempt was not counted.
    Locked(DateTime<Utc>),
    /// The account reached [`ACCOUNT_MAX_FAILURES`]: suspended until `unlock-user`.
    Suspended,
}

/// The answer to a refused attempt, given how the account and network's own counter
/// (`pair`) answered: 429 with `Retry-After` when that pair is locked, as it is for
/// unknown accounts too; otherwise the 401 of a wrong password, so an account-wide lock
/// says nothing about whether the account exists.
pub fn refusal(pair: Gate, now: DateTime<Utc>) -> ApiError {
    match pair {
        Gate::Locked(until) => ApiError::too_many_attempts(until - now),
        Gate::Counted | Gate::Suspended => ApiError::Unauthorized,
    }
}

/// Counts an attempt of `key` at `now`, before it is checked; while the pair is locked,
/// refuses it without counting.
pub async fn count_attempt(
    tx: &mut PgConnection,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Gate, sqlx::Error> {
    db::set_lookup(tx, Lookup::ThrottleKey, key).await?;
    let attempts = sqlx::query_scalar!(
        "INSERT INTO login_throttle (key, failures, last_failure_at)
         VALUES (decode($1, 'hex'), 1, $2)
         ON CONFLICT (key) DO UPDATE
             SET failures = login_throttle.failures + 1, last_failure_at = $2
             WHERE login_throttle.locked_until IS NULL OR login_throttle.locked_until <= $2
         RETURNING failures",
        key,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let gate = match attempts {
        None => {
            let until = sqlx::query_scalar!(
                "SELECT locked_until FROM login_throttle WHERE key = decode($1, 'hex')",
                key
            )
            .fetch_one(&mut *tx)
            .await?;
            Gate::Locked(until.unwrap_or(now + MAX_LOCK))
        }
        Some(attempts) => {
            if let Some(lock) = lock_after(attempts) {
                sqlx::query!(
                    "UPDATE login_throttle SET locked_until = $2 WHERE key = decode($1, 'hex')",
                    key,
                    now + lock
                )
                .execute(&mut *tx)
                .await?;
            }
            Gate::Counted
        }
    };
    db::set_lookup(tx, Lookup::ThrottleKey, "").await?;
    Ok(gate)
}

/// Clears the pair after a completed sign-in, and sweeps pairs a day past their last
/// attempt.
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

/// Counts an attempt on `account` from `address` before it is checked, under a lock of
/// the account's row, so concurrent attempts are counted one after another. `tx` must be
/// scoped to the account's clinic.
pub async fn count_account_attempt(
    tx: &mut PgConnection,
    account: UserId,
    address: IpAddr,
    now: DateTime<Utc>,
) -> Result<Gate, sqlx::Error> {
    let state = sqlx::query!(
        "SELECT failed_sign_ins, sign_in_locked_until, usual_network
         FROM users WHERE id = $1 FOR UPDATE",
        to_uuid(account)
    )
    .fetch_one(&mut *tx)
    .await?;
    if state.failed_sign_ins >= ACCOUNT_MAX_FAILURES {
        return Ok(Gate::Suspended);
    }
    let from_usual_network =
        state.usual_network.as_deref() == Some(network_key(address).as_slice());
    if let Some(until) = state.sign_in_locked_until
        && until > now
        && !from_usual_network
    {
        return Ok(Gate::Locked(until));
    }
    let attempts = state.failed_sign_ins + 1;
    let locked_until = account_lock_after(attempts)
        .map(|lock| now + lock)
        .or(state.sign_in_locked_until);
    sqlx::query!(
        "UPDATE users SET failed_sign_ins = $2, sign_in_locked_until = $3 WHERE id = $1",
        to_uuid(account),
        attempts,
        locked_until
    )
    .execute(&mut *tx)
    .await?;
    Ok(Gate::Counted)
}

/// Clears the account's count after a completed sign-in from `address`, which becomes its
/// usual network.
pub async fn clear_account(
    tx: &mut PgConnection,
    account: UserId,
    address: IpAddr,
) -> Result<(), sqlx::Error> {
    let network = network_key(address);
    sqlx::query!(
        "UPDATE users SET failed_sign_ins = 0, sign_in_locked_until = NULL, usual_network = $2
         WHERE id = $1",
        to_uuid(account),
        network.as_slice()
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Lifts every account-wide lock and the suspension of `account` (`unlock-user`).
pub async fn unlock_account(tx: &mut PgConnection, account: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_sign_ins = 0, sign_in_locked_until = NULL WHERE id = $1",
        to_uuid(account)
    )
    .execute(tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_locks_start_after_the_free_failures_and_are_capped() {
        for attempts in 1..FREE_FAILURES {
            assert_eq!(lock_after(attempts), None);
        }
        assert_eq!(lock_after(FREE_FAILURES), Some(FIRST_LOCK));
        assert_eq!(lock_after(FREE_FAILURES + 1), Some(FIRST_LOCK * 2));
        assert_eq!(lock_after(FREE_FAILURES + 50), Some(MAX_LOCK));
        assert_eq!(lock_after(i32::MAX), Some(MAX_LOCK));
    }

    #[test]
    fn reaching_the_account_ceiling_takes_days_of_guessing() {
        let mut waited = Duration::zero();
        for attempts in 1..ACCOUNT_MAX_FAILURES {
            waited += account_lock_after(attempts).unwrap_or_else(Duration::zero);
        }
        assert!(waited > Duration::days(3), "{waited}");
        assert_eq!(account_lock_after(ACCOUNT_FREE_FAILURES - 1), None);
        assert_eq!(
            account_lock_after(ACCOUNT_MAX_FAILURES),
            Some(ACCOUNT_MAX_LOCK)
        );
    }

    #[test]
    fn keys_differ_by_account_and_network_and_ipv6_is_grouped_by_64() {
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "127.0.0.2".parse().unwrap();
        let a = pair_key("clinician@clinic-a.example.org", here);
        assert_eq!(a.len(), 64);
        assert_ne!(a, pair_key("clinician@clinic-a.example.org", there));
        assert_ne!(a, pair_key("staff@clinic-a.example.org", here));

        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_key(one), network_key(same_64));
        assert_ne!(network_key(one), network_key(next_64));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(network_key(mapped), network_key(here));
    }
}
