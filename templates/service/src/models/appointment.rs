//! Appointments: scheduled visits (module `appointments`).
//! [`AppointmentRow::open`] is the one place rows become appointments.

use chrono::{DateTime, Utc};
use phi_guard::{OpaqueId, Phi, PhiResponse, RedactedDebug};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{ClinicalRecords, MAX_PAGE, open_rows, present, seal_reason};
use crate::auth::Resource;
use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;
use crate::ids::{AppointmentId, PatientId, from_uuid, to_uuid};

/// Encrypted like the patients' columns; the times stay plaintext (see the migration).
const REASON: Field = Field::new("appointments", "reason");

/// Where an appointment stands (after FHIR's `Appointment.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppointmentStatus {
    Booked,
    Cancelled,
    Fulfilled,
    Noshow,
}

impl AppointmentStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
            Self::Fulfilled => "fulfilled",
            Self::Noshow => "noshow",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "cancelled" => Self::Cancelled,
            "fulfilled" => Self::Fulfilled,
            "noshow" => Self::Noshow,
            _ => Self::Booked,
        }
    }
}

/// An appointment, as the API returns it.
#[derive(PhiResponse, RedactedDebug, ToSchema)]
pub struct Appointment {
    #[schema(value_type = Uuid)]
    pub id: AppointmentId,
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub starts_at: Phi<DateTime<Utc>>,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub ends_at: Phi<DateTime<Utc>>,
    #[phi(serde)]
    pub status: AppointmentStatus,
    #[schema(schema_with = Phi::<Option<String>>::schema, required)]
    pub reason: Phi<Option<String>>,
    #[phi(serde)]
    pub created_at: DateTime<Utc>,
    #[phi(serde)]
    pub updated_at: DateTime<Utc>,
}

/// `POST /appointments`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppointment {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub starts_at: Phi<DateTime<Utc>>,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub ends_at: Phi<DateTime<Utc>>,
    #[serde(default)]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub reason: Phi<Option<String>>,
}

/// `PATCH /appointments/{id}`: the fields present change; null clears `reason`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentChanges {
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub starts_at: Option<Phi<DateTime<Utc>>>,
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub ends_at: Option<Phi<DateTime<Utc>>>,
    #[serde(default)]
    pub status: Option<AppointmentStatus>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub reason: Option<Phi<Option<String>>>,
}

/// `POST /appointments/search`: a patient's appointments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSearch {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
}

struct AppointmentRow {
    id: Uuid,
    patient_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    status: String,
    reason: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AppointmentRow {
    fn open(self, keys: &ClinicKeys) -> Result<Appointment, CryptoError> {
        Ok(Appointment {
            reason: Phi::new(
                self.reason
                    .map(|reason| keys.open_text(REASON, self.id, &reason))
                    .transpose()?,
            ),
            id: from_uuid(self.id),
            patient_id: from_uuid(self.patient_id),
            starts_at: Phi::new(self.starts_at),
            ends_at: Phi::new(self.ends_at),
            status: AppointmentStatus::parse(&self.status),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The appointments of the clinic a transaction is scoped to.
pub struct Appointments;

impl ClinicalRecords for Appointments {
    const RESOURCE: Resource = Resource::Appointments;
    type Id = AppointmentId;
    type Record = Appointment;
    type New = NewAppointment;
    type Changes = AppointmentChanges;
    type Search = AppointmentSearch;

    fn id_of(appointment: &Appointment) -> OpaqueId {
        appointment.id.into()
    }

    async fn list(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        after: Option<AppointmentId>,
        limit: i64,
    ) -> Result<Vec<Appointment>, ApiError> {
        let rows = sqlx::query_as!(
            AppointmentRow,
            "SELECT id, patient_id, starts_at, ends_at, status, reason, created_at, updated_at
             FROM appointments
             WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1)
             ORDER BY id LIMIT $2",
            after.map(to_uuid),
            limit.clamp(1, MAX_PAGE)
        )
        .fetch_all(tx)
        .await?;
        open_rows(rows, |row| row.open(keys))
    }

    async fn create(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        new: NewAppointment,
    ) -> Result<Appointment, ApiError> {
        let id = Uuid::new_v4();
        let reason = seal_reason(keys, REASON, id, new.reason.expose().as_deref())?;
        let row = sqlx::query_as!(
            AppointmentRow,
            "INSERT INTO appointments (id, patient_id, starts_at, ends_at, status, reason)
             SELECT $5, p.id, $2::timestamptz, $3::timestamptz, 'booked', $4::bytea
             FROM patients p WHERE p.id = $1 AND p.deleted_at IS NULL
             RETURNING id, patient_id, starts_at, ends_at, status, reason, created_at, updated_at",
            to_uuid(new.patient_id),
            new.starts_at.expose(),
            new.ends_at.expose(),
            reason,
            id
        )
        .fetch_optional(tx)
        .await?
        .ok_or(ApiError::NotFound)?;
        Ok(row.open(keys)?)
    }

    async fn read(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: AppointmentId,
    ) -> Result<Option<Appointment>, ApiError> {
        let row = sqlx::query_as!(
            AppointmentRow,
            "SELECT id, patient_id, starts_at, ends_at, status, reason, created_at, updated_at
             FROM appointments WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn update(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: AppointmentId,
        changes: AppointmentChanges,
    ) -> Result<Option<Appointment>, ApiError> {
        let row = sqlx::query_as!(
            AppointmentRow,
            "UPDATE appointments SET
                 starts_at = coalesce($2, starts_at),
                 ends_at = coalesce($3, ends_at),
                 status = coalesce($4, status),
                 reason = CASE WHEN $5 THEN $6 ELSE reason END,
                 updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL
             RETURNING id, patient_id, starts_at, ends_at, status, reason, created_at, updated_at",
            to_uuid(id),
            changes.starts_at.as_ref().map(|at| *at.expose()),
            changes.ends_at.as_ref().map(|at| *at.expose()),
            changes.status.map(AppointmentStatus::as_str),
            changes.reason.is_some(),
            seal_reason(
                keys,
                REASON,
                to_uuid(id),
                changes
                    .reason
                    .as_ref()
                    .and_then(|reason| reason.expose().as_deref())
            )?
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn delete(tx: &mut PgConnection, id: AppointmentId) -> Result<bool, ApiError> {
        let deleted = sqlx::query!(
            "UPDATE appointments SET deleted_at = now(), updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .execute(tx)
        .await?
        .rows_affected();
        Ok(deleted == 1)
    }

    async fn search(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        search: AppointmentSearch,
    ) -> Result<Vec<Appointment>, ApiError> {
        let rows = sqlx::query_as!(
            AppointmentRow,
            "SELECT id, patient_id, starts_at, ends_at, status, reason, created_at, updated_at
             FROM appointments WHERE patient_id = $1 AND deleted_at IS NULL
             ORDER BY starts_at LIMIT $2",
            to_uuid(search.patient_id),
            MAX_PAGE
        )
        .fetch_all(tx)
        .await?;
        open_rows(rows, |row| row.open(keys))
    }
}
