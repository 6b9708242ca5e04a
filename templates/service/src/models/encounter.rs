//! Encounters: visits, admissions and calls (module `encounters`).
//! [`EncounterRow::open`] is the one place rows become encounters.

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
use crate::ids::{EncounterId, PatientId, UserId, from_uuid, to_uuid};

/// Encrypted like the patients' columns; the times stay plaintext (see the migration).
const REASON: Field = Field::new("encounters", "reason");

/// The setting of an encounter (after FHIR's `Encounter.class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncounterClass {
    Ambulatory,
    Emergency,
    Inpatient,
    Virtual,
}

impl EncounterClass {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ambulatory => "ambulatory",
            Self::Emergency => "emergency",
            Self::Inpatient => "inpatient",
            Self::Virtual => "virtual",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "emergency" => Self::Emergency,
            "inpatient" => Self::Inpatient,
            "virtual" => Self::Virtual,
            _ => Self::Ambulatory,
        }
    }
}

/// An encounter, as the API returns it.
#[derive(PhiResponse, RedactedDebug, ToSchema)]
pub struct Encounter {
    #[schema(value_type = Uuid)]
    pub id: EncounterId,
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = Phi::<EncounterClass>::schema)]
    pub class: Phi<EncounterClass>,
    #[schema(schema_with = Phi::<Option<String>>::schema, required)]
    pub reason: Phi<Option<String>>,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub started_at: Phi<DateTime<Utc>>,
    #[schema(schema_with = phi_guard::openapi::optional_date_time, required)]
    pub ended_at: Phi<Option<DateTime<Utc>>>,
    #[schema(value_type = Uuid)]
    pub created_by: UserId,
    #[phi(serde)]
    pub created_at: DateTime<Utc>,
    #[phi(serde)]
    pub updated_at: DateTime<Utc>,
}

/// `POST /encounters`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEncounter {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = Phi::<EncounterClass>::schema)]
    pub class: Phi<EncounterClass>,
    #[serde(default)]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub reason: Phi<Option<String>>,
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub started_at: Phi<DateTime<Utc>>,
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::optional_date_time)]
    pub ended_at: Phi<Option<DateTime<Utc>>>,
}

/// `PATCH /encounters/{id}`: the fields present change; null clears `reason`, `ended_at`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterChanges {
    #[serde(default)]
    #[schema(schema_with = Phi::<EncounterClass>::schema)]
    pub class: Option<Phi<EncounterClass>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub reason: Option<Phi<Option<String>>>,
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::date_time)]
    pub started_at: Option<Phi<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = phi_guard::openapi::optional_date_time)]
    pub ended_at: Option<Phi<Option<DateTime<Utc>>>>,
}

/// `POST /encounters/search`: a patient's encounters.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterSearch {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
}

struct EncounterRow {
    id: Uuid,
    patient_id: Uuid,
    class: String,
    reason: Option<Vec<u8>>,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EncounterRow {
    fn open(self, keys: &ClinicKeys) -> Result<Encounter, CryptoError> {
        Ok(Encounter {
            reason: Phi::new(
                self.reason
                    .map(|reason| keys.open_text(REASON, self.id, &reason))
                    .transpose()?,
            ),
            id: from_uuid(self.id),
            patient_id: from_uuid(self.patient_id),
            class: Phi::new(EncounterClass::parse(&self.class)),
            started_at: Phi::new(self.started_at),
            ended_at: Phi::new(self.ended_at),
            created_by: from_uuid(self.created_by),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The encounters of the clinic a transaction is scoped to.
pub struct Encounters;

impl ClinicalRecords for Encounters {
    const RESOURCE: Resource = Resource::Encounters;
    type Id = EncounterId;
    type Record = Encounter;
    type New = NewEncounter;
    type Changes = EncounterChanges;
    type Search = EncounterSearch;

    fn id_of(encounter: &Encounter) -> OpaqueId {
        encounter.id.into()
    }

    async fn list(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        after: Option<EncounterId>,
        limit: i64,
    ) -> Result<Vec<Encounter>, ApiError> {
        let rows = sqlx::query_as!(
            EncounterRow,
            "SELECT id, patient_id, class, reason, started_at, ended_at, created_by,
                    created_at, updated_at
             FROM encounters
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
        new: NewEncounter,
    ) -> Result<Encounter, ApiError> {
        // Only for a patient of this clinic that is not deleted.
        let id = Uuid::new_v4();
        let reason = seal_reason(keys, REASON, id, new.reason.expose().as_deref())?;
        let row = sqlx::query_as!(
            EncounterRow,
            "INSERT INTO encounters (id, patient_id, class, reason, started_at, ended_at)
             SELECT $6, p.id, $2::text, $3::bytea, $4::timestamptz, $5::timestamptz
             FROM patients p WHERE p.id = $1 AND p.deleted_at IS NULL
             RETURNING id, patient_id, class, reason, started_at, ended_at, created_by,
                       created_at, updated_at",
            to_uuid(new.patient_id),
            new.class.expose().as_str(),
            reason,
            new.started_at.expose(),
            *new.ended_at.expose(),
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
        id: EncounterId,
    ) -> Result<Option<Encounter>, ApiError> {
        let row = sqlx::query_as!(
            EncounterRow,
            "SELECT id, patient_id, class, reason, started_at, ended_at, created_by,
                    created_at, updated_at
             FROM encounters WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn update(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: EncounterId,
        changes: EncounterChanges,
    ) -> Result<Option<Encounter>, ApiError> {
        let row = sqlx::query_as!(
            EncounterRow,
            "UPDATE encounters SET
                 class = coalesce($2, class),
                 reason = CASE WHEN $3 THEN $4 ELSE reason END,
                 started_at = coalesce($5, started_at),
                 ended_at = CASE WHEN $6 THEN $7 ELSE ended_at END,
                 updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL
             RETURNING id, patient_id, class, reason, started_at, ended_at, created_by,
                       created_at, updated_at",
            to_uuid(id),
            changes.class.as_ref().map(|class| class.expose().as_str()),
            changes.reason.is_some(),
            seal_reason(
                keys,
                REASON,
                to_uuid(id),
                changes
                    .reason
                    .as_ref()
                    .and_then(|reason| reason.expose().as_deref())
            )?,
            changes.started_at.as_ref().map(|at| *at.expose()),
            changes.ended_at.is_some(),
            changes.ended_at.as_ref().and_then(|at| *at.expose())
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn delete(tx: &mut PgConnection, id: EncounterId) -> Result<bool, ApiError> {
        let deleted = sqlx::query!(
            "UPDATE encounters SET deleted_at = now(), updated_at = now()
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
        search: EncounterSearch,
    ) -> Result<Vec<Encounter>, ApiError> {
        let rows = sqlx::query_as!(
            EncounterRow,
            "SELECT id, patient_id, class, reason, started_at, ended_at, created_by,
                    created_at, updated_at
             FROM encounters WHERE patient_id = $1 AND deleted_at IS NULL
             ORDER BY started_at DESC LIMIT $2",
            to_uuid(search.patient_id),
            MAX_PAGE
        )
        .fetch_all(tx)
        .await?;
        open_rows(rows, |row| row.open(keys))
    }
}
