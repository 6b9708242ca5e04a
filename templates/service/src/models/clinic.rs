//! Clinics: the tenants. Every other record belongs to one, and row-level security shows a
//! transaction only the clinic it is scoped to.

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome};
use crate::db;
use crate::ids::{ClinicId, from_uuid, to_uuid};

/// A clinic. Its name is the organisation's, not PHI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic {
    pub id: ClinicId,
    pub name: String,
}

/// Creates a clinic and scopes the rest of `tx` to it. Its creation is the first event of
/// its audit chain, in the same transaction: every clinic has a chain, so one that has
/// none was deleted whole, and verification says so (HIPAA 164.312(b)).
pub async fn create(tx: &mut PgConnection, name: &str) -> Result<ClinicId, sqlx::Error> {
    let id: ClinicId = from_uuid(Uuid::new_v4());
    db::set_scope(tx, id, None).await?;
    sqlx::query!(
        "INSERT INTO clinics (id, name) VALUES ($1, $2)",
        to_uuid(id),
        name
    )
    .execute(&mut *tx)
    .await?;
    let created =
        Event::new(AuditAction::CreateClinic, Outcome::Success).on("clinics", Some(to_uuid(id)));
    audit::record(tx, &AuditContext::command(id, Utc::now()), &[created]).await?;
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
