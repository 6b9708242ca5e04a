//! Clinical notes (module `notes`): clinician-only, by the minimum-necessary rule.
//! [`NoteRow::open`] is the one place rows become notes: the body is AES-256-GCM
//! ciphertext in the table, sealed with the clinic's data key (`crate::crypto`).

use chrono::{DateTime, Utc};
use phi_guard::{OpaqueId, Phi, PhiResponse, RedactedDebug};
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{ClinicalRecords, MAX_PAGE, open_rows};
use crate::auth::Resource;
use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;
use crate::ids::{NoteId, PatientId, UserId, from_uuid, to_uuid};

const BODY: Field = Field::new("notes", "body");

/// The longest note, in characters.
const MAX_BODY: usize = 100_000;

/// A note's body, sealed to its row `id`, once it is within bounds.
fn seal_body(keys: &ClinicKeys, id: Uuid, body: &str) -> Result<Vec<u8>, ApiError> {
    let length = body.chars().count();
    if body.trim().is_empty() || length > MAX_BODY {
        return Err(ApiError::invalid_field(
            "body",
            "must be 1 to 100000 characters",
        ));
    }
    Ok(keys.seal_text(BODY, id, body)?)
}

/// A note, as the API returns it.
#[derive(PhiResponse, RedactedDebug, ToSchema)]
pub struct Note {
    #[schema(value_type = Uuid)]
    pub id: NoteId,
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = Phi::<String>::schema)]
    pub body: Phi<String>,
    #[schema(value_type = Uuid)]
    pub author_id: UserId,
    #[phi(serde)]
    pub created_at: DateTime<Utc>,
    #[phi(serde)]
    pub updated_at: DateTime<Utc>,
}

/// `POST /notes`. The author is the session's user.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[schema(schema_with = Phi::<String>::schema)]
    pub body: Phi<String>,
}

/// `PATCH /notes/{id}`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteChanges {
    #[schema(schema_with = Phi::<String>::schema)]
    pub body: Phi<String>,
}

/// `POST /notes/search`: a patient's notes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteSearch {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
}

struct NoteRow {
    id: Uuid,
    patient_id: Uuid,
    body: Vec<u8>,
    author_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl NoteRow {
    fn open(self, keys: &ClinicKeys) -> Result<Note, CryptoError> {
        Ok(Note {
            body: Phi::new(keys.open_text(BODY, self.id, &self.body)?),
            id: from_uuid(self.id),
            patient_id: from_uuid(self.patient_id),
            author_id: from_uuid(self.author_id),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The notes of the clinic a transaction is scoped to.
pub struct Notes;

impl ClinicalRecords for Notes {
    const RESOURCE: Resource = Resource::Notes;
    type Id = NoteId;
    type Record = Note;
    type New = NewNote;
    type Changes = NoteChanges;
    type Search = NoteSearch;

    fn id_of(note: &Note) -> OpaqueId {
        note.id.into()
    }

    async fn list(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        after: Option<NoteId>,
        limit: i64,
    ) -> Result<Vec<Note>, ApiError> {
        let rows = sqlx::query_as!(
            NoteRow,
            "SELECT id, patient_id, body, author_id, created_at, updated_at
             FROM notes
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
        new: NewNote,
    ) -> Result<Note, ApiError> {
        let id = Uuid::new_v4();
        let body = seal_body(keys, id, new.body.expose())?;
        let row = sqlx::query_as!(
            NoteRow,
            "INSERT INTO notes (id, patient_id, body)
             SELECT $3, p.id, $2::bytea FROM patients p WHERE p.id = $1 AND p.deleted_at IS NULL
             RETURNING id, patient_id, body, author_id, created_at, updated_at",
            to_uuid(new.patient_id),
            body,
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
        id: NoteId,
    ) -> Result<Option<Note>, ApiError> {
        let row = sqlx::query_as!(
            NoteRow,
            "SELECT id, patient_id, body, author_id, created_at, updated_at
             FROM notes WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn update(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: NoteId,
        changes: NoteChanges,
    ) -> Result<Option<Note>, ApiError> {
        let row = sqlx::query_as!(
            NoteRow,
            "UPDATE notes SET body = $2, updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL
             RETURNING id, patient_id, body, author_id, created_at, updated_at",
            to_uuid(id),
            seal_body(keys, to_uuid(id), changes.body.expose())?
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn delete(tx: &mut PgConnection, id: NoteId) -> Result<bool, ApiError> {
        let deleted = sqlx::query!(
            "UPDATE notes SET deleted_at = now(), updated_at = now()
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
        search: NoteSearch,
    ) -> Result<Vec<Note>, ApiError> {
        let rows = sqlx::query_as!(
            NoteRow,
            "SELECT id, patient_id, body, author_id, created_at, updated_at
             FROM notes WHERE patient_id = $1 AND deleted_at IS NULL
             ORDER BY created_at DESC LIMIT $2",
            to_uuid(search.patient_id),
            MAX_PAGE
        )
        .fetch_all(tx)
        .await?;
        open_rows(rows, |row| row.open(keys))
    }
}
