//! Clinics: the tenants. Every other record belongs to one, and row-level security shows a
//! transaction only the clinic it is scoped to.

use sqlx::PgConnection;
use uuid::Uuid;

use super::ids::{ClinicId, from_uuid, to_uuid};
use crate::db;

/// A clinic. Its name is the organisation's, not PHI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic {
    pub id: ClinicId,
    pub name: String,
}

/// Creates a clinic and scopes the rest of `tx` to it.
pub async fn create(tx: &mut PgConnection, name: &str) -> Result<ClinicId, sqlx::Error> {
    let id: ClinicId = from_uuid(Uuid::new_v4());
    db::set_scope(tx, id, None).await?;
    sqlx::query!(
        "INSERT INTO clinics (id, name) VALUES ($1, $2)",
        to_uuid(id),
        name
    )
    .execute(tx)
    .await?;
    Ok(id)
}

/// The clinic `tx` is scoped to, if it is `id`.
pub async fn get(tx: &mut PgConnection, id: ClinicId) -> Result<Option<Clinic>, sqlx::Error> {
    let row = sqlx::query!("SELECT id, name FROM clinics WHERE id = $1", to_uuid(id))
        .fetch_optional(tx)
        .await?;
    Ok(row.map(|row| Clinic {
        id: from_uuid(row.id),
        name: row.name,
    }))
}
