//! `audit_events` and `audit_heads` rows (migrations/0006_audit.sql). The events are
//! append-only: there is no update or delete here, and the service role has neither
//! privilege (HIPAA 164.312(b)).

use sqlx::PgConnection;
use uuid::Uuid;

use super::chain::{Record, StoredEvent, canonical_before_seq};

/// Records `records`, the events of one request (they share its clinic, time, actor,
/// request id and source; their `seq` is ignored), in `audit_pending`, in one statement
/// and without a lock. When the transaction commits, a deferred trigger
/// (migrations/0006_audit.sql) chains them into `audit_events` in this order, hashing as
/// [`Record::chain_hash`] does; if it cannot, the commit fails and the access with it.
pub async fn append(tx: &mut PgConnection, records: &[Record]) -> Result<(), sqlx::Error> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    let column =
        |field: fn(&Record) -> Option<String>| records.iter().map(field).collect::<Vec<_>>();
    sqlx::query!(
        "INSERT INTO audit_pending (id, clinic_id, before_seq, after_seq, occurred_at,
                                   actor_user_id, actor_role, action, resource_type,
                                   resource_id, outcome, request_id, source_address)
         SELECT id, $1, $2, after_seq, $3, $4, $5, action, resource_type, resource_id,
                outcome, $6, $7
         FROM UNNEST($8::uuid[], $9::bytea[], $10::text[], $11::text[], $12::uuid[],
                     $13::text[])
              WITH ORDINALITY
              AS event (id, after_seq, action, resource_type, resource_id, outcome, n)
         ORDER BY n",
        first.clinic_id,
        canonical_before_seq(first.clinic_id),
        first.occurred_at,
        first.actor_user_id,
        first.actor_role.as_deref(),
        first.request_id,
        first.source_address.as_deref(),
        &records.iter().map(|_| Uuid::new_v4()).collect::<Vec<_>>(),
        &records
            .iter()
            .map(Record::canonical_after_seq)
            .collect::<Vec<_>>(),
        &records
            .iter()
            .map(|record| record.action.clone())
            .collect::<Vec<_>>(),
        &column(|record| record.resource_type.clone()) as &[Option<String>],
        &records
            .iter()
            .map(|record| record.resource_id)
            .collect::<Vec<_>>() as &[Option<Uuid>],
        &records
            .iter()
            .map(|record| record.outcome.clone())
            .collect::<Vec<_>>()
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Where the clinic's chain ends, read in one statement (one snapshot, whatever the
/// transaction's isolation): the head as `(seq, hash)`, and the newest stored number. An
/// append moves both in one commit, so they disagree only when the chain was written
/// around the chaining function.
pub struct ChainEnd {
    pub head: Option<(i64, Vec<u8>)>,
    pub newest: Option<i64>,
}

pub async fn chain_end(tx: &mut PgConnection, clinic_id: Uuid) -> Result<ChainEnd, sqlx::Error> {
    let end = sqlx::query!(
        r#"SELECT (SELECT seq FROM audit_heads WHERE clinic_id = $1) AS head_seq,
                  (SELECT hash FROM audit_heads WHERE clinic_id = $1) AS head_hash,
                  (SELECT max(seq) FROM audit_events WHERE clinic_id = $1) AS newest"#,
        clinic_id
    )
    .fetch_one(tx)
    .await?;
    Ok(ChainEnd {
        head: end.head_seq.zip(end.head_hash),
        newest: end.newest,
    })
}

/// Every clinic's head as `(clinic, seq, hash)` (the owner's view, for checkpoints).
pub async fn heads(tx: &mut PgConnection) -> Result<Vec<(Uuid, i64, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT clinic_id, seq, hash FROM audit_heads ORDER BY clinic_id")
        .fetch_all(tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.clinic_id, row.seq, row.hash))
        .collect())
}

/// Every clinic `tx` sees (the owner sees all).
pub async fn clinics(tx: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM clinics ORDER BY id")
        .fetch_all(tx)
        .await
}

/// The stored hash of the clinic's event `seq`.
pub async fn event_hash(
    tx: &mut PgConnection,
    clinic_id: Uuid,
    seq: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT hash FROM audit_events WHERE clinic_id = $1 AND seq = $2",
        clinic_id,
        seq
    )
    .fetch_optional(tx)
    .await
}

/// The clinics `tx` sees that have neither events nor a head.
pub async fn clinics_without_chain(tx: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT c.id FROM clinics c
         WHERE NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.clinic_id = c.id)
           AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.clinic_id = c.id)
         ORDER BY c.id"
    )
    .fetch_all(tx)
    .await
}

/// Up to `limit` events of the clinic with seq after `after` and at most `up_to`, in seq
/// order. The clinic is
/// named explicitly so the owner (`verify-audit`), whose policy shows every clinic, reads
/// one chain at a time; for the service, row-level security adds the same filter.
pub async fn page(
    tx: &mut PgConnection,
    clinic_id: Uuid,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, clinic_id, seq, occurred_at, actor_user_id, actor_role, action,
                resource_type, resource_id, outcome, request_id, source_address, prev_hash, hash
         FROM audit_events WHERE clinic_id = $1 AND seq > $2 AND seq <= $3
         ORDER BY seq LIMIT $4",
        clinic_id,
        after,
        up_to,
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
