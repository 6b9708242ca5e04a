//! `audit_events` and `audit_heads` rows (migrations/0006_audit.sql). The events are
//! append-only: there is no update or delete here, and the service role has neither
//! privilege (HIPAA 164.312(b)).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::chain::{GENESIS, Record, StoredEvent};

/// Locks the clinic's chain head until the transaction ends and returns it as
/// `(seq, hash)`: concurrent appends of one clinic wait here, so the chain never forks.
pub async fn lock_head(
    tx: &mut PgConnection,
    clinic_id: Uuid,
) -> Result<(i64, Vec<u8>), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_heads (clinic_id, seq, hash) VALUES ($1, 0, $2)
         ON CONFLICT (clinic_id) DO NOTHING",
        clinic_id,
        GENESIS.as_slice()
    )
    .execute(&mut *tx)
    .await?;
    let head = sqlx::query!(
        "SELECT seq, hash FROM audit_heads WHERE clinic_id = $1 FOR UPDATE",
        clinic_id
    )
    .fetch_one(tx)
    .await?;
    Ok((head.seq, head.hash))
}

/// Moves the locked head to the event just appended.
pub async fn set_head(
    tx: &mut PgConnection,
    clinic_id: Uuid,
    seq: i64,
    hash: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE audit_heads SET seq = $2, hash = $3 WHERE clinic_id = $1",
        clinic_id,
        seq,
        hash
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The clinic's chain head as `(seq, hash)`, without locking it.
pub async fn head(
    tx: &mut PgConnection,
    clinic_id: Uuid,
) -> Result<Option<(i64, Vec<u8>)>, sqlx::Error> {
    let head = sqlx::query!(
        "SELECT seq, hash FROM audit_heads WHERE clinic_id = $1",
        clinic_id
    )
    .fetch_optional(tx)
    .await?;
    Ok(head.map(|head| (head.seq, head.hash)))
}

/// Appends one event.
pub async fn insert(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), sqlx::Error> {
    let record = &event.record;
    sqlx::query!(
        "INSERT INTO audit_events (id, clinic_id, seq, occurred_at, actor_user_id, actor_role,
                                   action, resource_type, resource_id, outcome, request_id,
                                   source_address, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        event.id,
        record.clinic_id,
        record.seq,
        record.occurred_at,
        record.actor_user_id,
        record.actor_role.as_deref(),
        record.action,
        record.resource_type.as_deref(),
        record.resource_id,
        record.outcome,
        record.request_id,
        record.source_address.as_deref(),
        event.prev_hash.as_slice(),
        event.hash.as_slice()
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Up to `limit` events of the clinic with seq after `after`, in seq order. The clinic is
/// named explicitly so the owner (`verify-audit`), whose policy shows every clinic, reads
/// one chain at a time; for the service, row-level security adds the same filter.
pub async fn page(
    tx: &mut PgConnection,
    clinic_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, clinic_id, seq, occurred_at, actor_user_id, actor_role, action,
                resource_type, resource_id, outcome, request_id, source_address, prev_hash, hash
         FROM audit_events WHERE clinic_id = $1 AND seq > $2
         ORDER BY seq LIMIT $3",
        clinic_id,
        after,
        limit
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| StoredEvent {
            id: row.id,
            record: Record {
                clinic_id: row.clinic_id,
                seq: row.seq,
                occurred_at: row.occurred_at,
                actor_user_id: row.actor_user_id,
                actor_role: row.actor_role,
                action: row.action,
                resource_type: row.resource_type,
                resource_id: row.resource_id,
                outcome: row.outcome,
                request_id: row.request_id,
                source_address: row.source_address,
            },
            prev_hash: row.prev_hash,
            hash: row.hash,
        })
        .collect())
}

/// Every clinic with a chain (the owner's view, for `verify-audit`).
pub async fn chains(tx: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT clinic_id AS "clinic_id!" FROM audit_heads
           UNION SELECT clinic_id FROM audit_events
           ORDER BY 1"#
    )
    .fetch_all(tx)
    .await
}
