//! Session rows. The token itself is never stored, only its SHA-256 (README.md, "API").

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{self, Lookup};
use crate::ids::{ClinicId, UserId, from_uuid, to_uuid};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    /// Password accepted, TOTP code still owed.
    pub mfa_pending: bool,
    pub mfa_failures: i32,
    /// May only confirm its TOTP enrollment (`POST /auth/mfa/enroll`); pending as well.
    pub enrolling: bool,
    /// When this session's second factor was given, if it was.
    pub mfa_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// What a new session starts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Signed in, the second factor given at `mfa_at` if the account has one.
    Complete { mfa_at: Option<DateTime<Utc>> },
    /// Password accepted, TOTP code owed.
    MfaPending,
    /// A new account's first session: it may only confirm its TOTP enrollment.
    Enrolling,
}

/// A session as its owner sees it in `GET /me/sessions`: no token, no hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The address it signed in from.
    pub source: Option<String>,
}

/// The session whose token hashes to `token_hash_hex`, before the clinic is known.
pub async fn find_by_token(
    tx: &mut PgConnection,
    token_hash_hex: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    db::set_lookup(tx, Lookup::SessionTokenHash, token_hash_hex).await?;
    let row = sqlx::query!(
        "SELECT id, user_id, clinic_id, mfa_pending, mfa_failures, enrolling, mfa_at,
                created_at, last_seen_at
         FROM sessions WHERE token_hash = decode($1, 'hex')",
        token_hash_hex
    )
    .fetch_optional(&mut *tx)
    .await?;
    db::set_lookup(tx, Lookup::SessionTokenHash, "").await?;
    Ok(row.map(|row| SessionRecord {
        id: row.id,
        user_id: from_uuid(row.user_id),
        clinic_id: from_uuid(row.clinic_id),
        mfa_pending: row.mfa_pending,
        mfa_failures: row.mfa_failures,
        enrolling: row.enrolling,
        mfa_at: row.mfa_at,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
    }))
}

/// Starts a session for `user` in the clinic `tx` is scoped to, signed in from `source`.
pub async fn create(
    tx: &mut PgConnection,
    token_hash: &[u8; 32],
    user: UserId,
    stage: Stage,
    source: IpAddr,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (mfa_pending, enrolling, mfa_at) = match stage {
        Stage::Complete { mfa_at } => (false, false, mfa_at),
        Stage::MfaPending => (true, false, None),
        Stage::Enrolling => (true, true, None),
    };
    sqlx::query!(
        "INSERT INTO sessions
             (token_hash, user_id, mfa_pending, enrolling, mfa_at, source, created_at,
              last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6::text::inet, $7, $7)",
        token_hash.as_slice(),
        to_uuid(user),
        mfa_pending,
        enrolling,
        mfa_at,
        source.to_string(),
        now
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The sessions of `user`, newest first.
pub async fn list_for_user(
    tx: &mut PgConnection,
    user: UserId,
) -> Result<Vec<SessionSummary>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, created_at, last_seen_at, host(source) AS source
         FROM sessions WHERE user_id = $1 AND NOT mfa_pending
         ORDER BY created_at DESC, id",
        to_uuid(user)
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionSummary {
            id: row.id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            source: row.source,
        })
        .collect())
}

/// Ends the session `id` if it is one of `user`'s; whether it was.
pub async fn delete_of_user(
    tx: &mut PgConnection,
    id: Uuid,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM sessions WHERE id = $1 AND user_id = $2",
        id,
        to_uuid(user)
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(deleted == 1)
}

/// Ends every session of `user` but `keep` (the one making the request), or all of them.
pub async fn delete_all_of_user(
    tx: &mut PgConnection,
    user: UserId,
    keep: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2",
        to_uuid(user),
        keep
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(deleted)
}

/// Marks the session as used at `now`, restarting its idle timeout.
pub async fn touch(tx: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sessions SET last_seen_at = $2 WHERE id = $1",
        id,
        now
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Counts a wrong TOTP code against the session; returns the failures so far.
pub async fn count_mfa_failure(tx: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE sessions SET mfa_failures = mfa_failures + 1 WHERE id = $1
         RETURNING mfa_failures",
        id
    )
    .fetch_one(tx)
    .await
}

/// Locks the session's row until `tx` ends; `false` when the session is gone (a
/// concurrent request ended it).
pub async fn lock(tx: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM sessions WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(tx)
        .await?;
    Ok(found.is_some())
}

/// Ends the session.
pub async fn delete(tx: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE id = $1", id)
        .execute(tx)
        .await?;
    Ok(())
}
