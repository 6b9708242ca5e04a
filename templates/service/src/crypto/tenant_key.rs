//! `tenant_keys`: each clinic's data and blind-index keys, wrapped by the key-encryption
//! key (see `crate::crypto`). Nothing here is ever unwrapped; that is the key ring's job.

use sqlx::PgConnection;
use uuid::Uuid;

/// What a key is for; the `tenant_keys.purpose` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Seals and opens PHI values.
    Data,
    /// Computes the blind indexes of the exact-match searches.
    BlindIndex,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Data => "data",
            Self::BlindIndex => "blind_index",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "data" => Some(Self::Data),
            "blind_index" => Some(Self::BlindIndex),
            _ => None,
        }
    }
}

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub clinic_id: Uuid,
    pub purpose: Purpose,
    pub version: u32,
    pub wrapped_key: Vec<u8>,
    pub kek_id: String,
}

struct Row {
    clinic_id: Uuid,
    purpose: String,
    version: i32,
    wrapped_key: Vec<u8>,
    kek_id: String,
}

fn from_rows(rows: Vec<Row>) -> Vec<WrappedKey> {
    rows.into_iter()
        .filter_map(|row| {
            Some(WrappedKey {
                clinic_id: row.clinic_id,
                purpose: Purpose::parse(&row.purpose)?,
                version: u32::try_from(row.version).ok()?,
                wrapped_key: row.wrapped_key,
                kek_id: row.kek_id,
            })
        })
        .collect()
}

/// The keys of `clinic_id`. The explicit clinic and row-level security agree; `FOR
/// SHARE` is not needed: rows are only added or re-wrapped, never removed.
pub async fn of_clinic(
    tx: &mut PgConnection,
    clinic_id: Uuid,
) -> Result<Vec<WrappedKey>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT clinic_id, purpose, version, wrapped_key, kek_id FROM tenant_keys
         WHERE clinic_id = $1 ORDER BY purpose, version",
        clinic_id
    )
    .fetch_all(tx)
    .await?;
    Ok(from_rows(rows))
}

/// The keys of `clinic_id`, locked until the transaction ends (`rotate-keys`).
pub async fn of_clinic_for_update(
    tx: &mut PgConnection,
    clinic_id: Uuid,
) -> Result<Vec<WrappedKey>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT clinic_id, purpose, version, wrapped_key, kek_id FROM tenant_keys
         WHERE clinic_id = $1 ORDER BY purpose, version FOR UPDATE",
        clinic_id
    )
    .fetch_all(tx)
    .await?;
    Ok(from_rows(rows))
}

/// Adds `key` unless its clinic already has that purpose and version (another request
/// created it first); whether this one was added.
pub async fn insert(tx: &mut PgConnection, key: &WrappedKey) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO tenant_keys (clinic_id, purpose, version, wrapped_key, kek_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        key.clinic_id,
        key.purpose.as_str(),
        i32::try_from(key.version).unwrap_or(i32::MAX),
        key.wrapped_key,
        key.kek_id
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(added == 1)
}

/// Replaces the wrapping of one key (`rotate-keys`, as the owner).
pub async fn rewrap(tx: &mut PgConnection, key: &WrappedKey) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE tenant_keys SET wrapped_key = $4, kek_id = $5, rewrapped_at = now()
         WHERE clinic_id = $1 AND purpose = $2 AND version = $3",
        key.clinic_id,
        key.purpose.as_str(),
        i32::try_from(key.version).unwrap_or(i32::MAX),
        key.wrapped_key,
        key.kek_id
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Every clinic that has keys (`rotate-keys`, as the owner).
pub async fn clinics(connection: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT DISTINCT clinic_id FROM tenant_keys ORDER BY clinic_id")
        .fetch_all(connection)
        .await
}
