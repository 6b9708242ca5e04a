//! Recovery codes (`recovery_codes`): ten per account, stored as SHA-256 only, each
//! accepted once ([`crate::auth::tokens::RecoveryCode`]).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ids::{UserId, to_uuid};

/// Replaces every code of `user` with the codes hashing to `hashes`: the old ones stop
/// working in the same transaction.
pub async fn replace(
    tx: &mut PgConnection,
    user: UserId,
    hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM recovery_codes WHERE user_id = $1",
        to_uuid(user)
    )
    .execute(&mut *tx)
    .await?;
    let hashes: Vec<Vec<u8>> = hashes.iter().map(|hash| hash.to_vec()).collect();
    sqlx::query!(
        "INSERT INTO recovery_codes (user_id, code_hash, created_at)
         SELECT $1, hash, $3 FROM unnest($2::bytea[]) AS hash",
        to_uuid(user),
        &hashes,
        now
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The unused codes of `user`: id and hash.
pub async fn unused(
    tx: &mut PgConnection,
    user: UserId,
) -> Result<Vec<(Uuid, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        to_uuid(user)
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id, row.code_hash))
        .collect())
}

/// Marks the code used at `now`; `false` when a concurrent request used it first.
pub async fn mark_used(
    tx: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let marked = sqlx::query!(
        "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        id,
        now
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(marked == 1)
}
