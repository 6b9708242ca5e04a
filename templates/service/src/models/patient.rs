//! Patients. Every PHI column is a `Phi` field here, and [`PatientRow::into_patient`] is the
//! one place rows become patients, so the storage of a column can change (e.g. to
//! ciphertext) without touching the routes.

use chrono::{DateTime, NaiveDate, Utc};
use phi_guard::{OpaqueId, Phi, PhiResponse, RedactedDebug};
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ids::{PatientId, from_uuid, to_uuid};
use super::{ClinicalRecords, MAX_PAGE, present};
use crate::auth::Resource;
use crate::error::ApiError;

/// A patient, as the API returns it.
#[derive(PhiResponse, RedactedDebug)]
pub struct Patient {
    pub id: PatientId,
    pub mrn: Phi<String>,
    pub given_name: Phi<String>,
    pub family_name: Phi<String>,
    pub date_of_birth: Phi<NaiveDate>,
    pub phone: Phi<Option<String>>,
    #[phi(serde)]
    pub created_at: DateTime<Utc>,
    #[phi(serde)]
    pub updated_at: DateTime<Utc>,
}

/// `POST /patients`. The clinic comes from the session, never from the body.
#[derive(Deserialize, RedactedDebug)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    /// Medical record number, unique within the clinic.
    pub mrn: Phi<String>,
    pub given_name: Phi<String>,
    pub family_name: Phi<String>,
    pub date_of_birth: Phi<NaiveDate>,
    #[serde(default)]
    pub phone: Phi<Option<String>>,
}

/// `PATCH /patients/{id}`: the fields present change; `"phone": null` removes the phone.
#[derive(Deserialize, RedactedDebug)]
#[serde(deny_unknown_fields)]
pub struct PatientChanges {
    #[serde(default)]
    pub mrn: Option<Phi<String>>,
    #[serde(default)]
    pub given_name: Option<Phi<String>>,
    #[serde(default)]
    pub family_name: Option<Phi<String>>,
    #[serde(default)]
    pub date_of_birth: Option<Phi<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Phi<Option<String>>>,
}

/// `POST /patients/search`: exact match by record number, or by name and date of birth.
/// In the body, never the URL (SPEC 4.1).
#[derive(Deserialize, RedactedDebug)]
#[serde(deny_unknown_fields)]
pub struct PatientSearch {
    #[serde(default)]
    pub mrn: Option<Phi<String>>,
    #[serde(default)]
    pub given_name: Option<Phi<String>>,
    #[serde(default)]
    pub family_name: Option<Phi<String>>,
    #[serde(default)]
    pub date_of_birth: Option<Phi<NaiveDate>>,
}

/// A `patients` row as selected.
struct PatientRow {
    id: Uuid,
    mrn: String,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    phone: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PatientRow {
    fn into_patient(self) -> Patient {
        Patient {
            id: from_uuid(self.id),
            mrn: Phi::new(self.mrn),
            given_name: Phi::new(self.given_name),
            family_name: Phi::new(self.family_name),
            date_of_birth: Phi::new(self.date_of_birth),
            phone: Phi::new(self.phone),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The patients of the clinic a transaction is scoped to.
pub struct Patients;

impl ClinicalRecords for Patients {
    const RESOURCE: Resource = Resource::Patients;
    type Id = PatientId;
    type Record = Patient;
    type New = NewPatient;
    type Changes = PatientChanges;
    type Search = PatientSearch;

    fn id_of(patient: &Patient) -> OpaqueId {
        patient.id.into()
    }

    async fn list(
        tx: &mut PgConnection,
        after: Option<PatientId>,
        limit: i64,
    ) -> Result<Vec<Patient>, ApiError> {
        // No clinic in the WHERE clause: row-level security adds it.
        let rows = sqlx::query_as!(
            PatientRow,
            "SELECT id, mrn, given_name, family_name, date_of_birth, phone, created_at, updated_at
             FROM patients
             WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1)
             ORDER BY id LIMIT $2",
            after.map(to_uuid),
            limit.clamp(1, MAX_PAGE)
        )
        .fetch_all(tx)
        .await?;
        Ok(rows.into_iter().map(PatientRow::into_patient).collect())
    }

    async fn create(tx: &mut PgConnection, new: NewPatient) -> Result<Patient, ApiError> {
        let row = sqlx::query_as!(
            PatientRow,
            "INSERT INTO patients (mrn, given_name, family_name, date_of_birth, phone)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, mrn, given_name, family_name, date_of_birth, phone,
                       created_at, updated_at",
            new.mrn.expose(),
            new.given_name.expose(),
            new.family_name.expose(),
            new.date_of_birth.expose(),
            new.phone.expose().as_deref()
        )
        .fetch_one(tx)
        .await?;
        Ok(row.into_patient())
    }

    async fn read(tx: &mut PgConnection, id: PatientId) -> Result<Option<Patient>, ApiError> {
        let row = sqlx::query_as!(
            PatientRow,
            "SELECT id, mrn, given_name, family_name, date_of_birth, phone, created_at, updated_at
             FROM patients WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(PatientRow::into_patient))
    }

    async fn update(
        tx: &mut PgConnection,
        id: PatientId,
        changes: PatientChanges,
    ) -> Result<Option<Patient>, ApiError> {
        let row = sqlx::query_as!(
            PatientRow,
            "UPDATE patients SET
                 mrn = coalesce($2, mrn),
                 given_name = coalesce($3, given_name),
                 family_name = coalesce($4, family_name),
                 date_of_birth = coalesce($5, date_of_birth),
                 phone = CASE WHEN $6 THEN $7 ELSE phone END,
                 updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL
             RETURNING id, mrn, given_name, family_name, date_of_birth, phone,
                       created_at, updated_at",
            to_uuid(id),
            changes.mrn.as_ref().map(|mrn| mrn.expose().as_str()),
            changes
                .given_name
                .as_ref()
                .map(|name| name.expose().as_str()),
            changes
                .family_name
                .as_ref()
                .map(|name| name.expose().as_str()),
            changes.date_of_birth.as_ref().map(|dob| *dob.expose()),
            changes.phone.is_some(),
            changes
                .phone
                .as_ref()
                .and_then(|phone| phone.expose().as_deref())
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(PatientRow::into_patient))
    }

    async fn delete(tx: &mut PgConnection, id: PatientId) -> Result<bool, ApiError> {
        let deleted = sqlx::query!(
            "UPDATE patients SET deleted_at = now(), updated_at = now()
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
        search: PatientSearch,
    ) -> Result<Vec<Patient>, ApiError> {
        let rows = match search {
            PatientSearch {
                mrn: Some(mrn),
                given_name: None,
                family_name: None,
                date_of_birth: None,
            } => {
                sqlx::query_as!(
                    PatientRow,
                    "SELECT id, mrn, given_name, family_name, date_of_birth, phone,
                            created_at, updated_at
                     FROM patients WHERE mrn = $1 AND deleted_at IS NULL",
                    mrn.expose()
                )
                .fetch_all(tx)
                .await?
            }
            PatientSearch {
                mrn: None,
                given_name: Some(given_name),
                family_name: Some(family_name),
                date_of_birth: Some(date_of_birth),
            } => {
                sqlx::query_as!(
                    PatientRow,
                    "SELECT id, mrn, given_name, family_name, date_of_birth, phone,
                            created_at, updated_at
                     FROM patients
                     WHERE lower(family_name) = lower($1) AND lower(given_name) = lower($2)
                       AND date_of_birth = $3 AND deleted_at IS NULL
                     ORDER BY id LIMIT $4",
                    family_name.expose().trim(),
                    given_name.expose().trim(),
                    date_of_birth.expose(),
                    MAX_PAGE
                )
                .fetch_all(tx)
                .await?
            }
            _ => {
                return Err(ApiError::Invalid(
                    "search by mrn alone, or by given_name, family_name and date_of_birth",
                ));
            }
        };
        Ok(rows.into_iter().map(PatientRow::into_patient).collect())
    }
}
