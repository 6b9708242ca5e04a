//! Session rows. The token itself is never stored, only its SHA-256 (README.md, "API").

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ids::{ClinicId, UserId, from_uuid, to_uuid};
use crate::db::{self, Lookup};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    /// Password accepted, TOTP code still owed.
    pub mfa_pending: bool,
    pub mfa_failures: i32,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The session whose token hashes to `token_hash_hex`, before the clinic is known.
pub async fn find_by_token(
    tx: &mut PgConnection,
    token_hash_hex: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    db::set_lookup(tx, Lookup::SessionTokenHash, token_hash_hex).await?;
    let row = sqlx::query!(
        "SELECT id, user_id, clinic_id, mfa_pending, mfa_failures, created_at, last_seen_at
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
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
    }))
}

/// Starts a session for `user` in the clinic `tx` is scoped to.
pub async fn create(
    tx: &mut PgConnection,
    token_hash: &[u8; 32],
    user: UserId,
    mfa_pending: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, mfa_pending, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
        token_hash.as_slice(),
        to_uuid(user),
        mfa_pending,
        now
    )
    .execute(tx)
    .await?;
    Ok(())
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
