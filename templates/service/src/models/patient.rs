//! Patients. Every PHI column is a `Phi` field here and AES-256-GCM ciphertext in the
//! table (see `crate::crypto`): [`PatientRow::open`] is the one place rows become
//! patients, [`Sealed::new`] the one place patients become rows. The exact-match
//! searches go through blind indexes, never through plaintext.

use chrono::{DateTime, NaiveDate, Utc};
use phi_guard::{OpaqueId, Phi, PhiResponse, RedactedDebug};
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{ClinicalRecords, MAX_PAGE, open_rows, present};
use crate::auth::Resource;
use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;
use crate::ids::{PatientId, from_uuid, to_uuid};

const MRN: Field = Field::new("patients", "mrn");
const GIVEN_NAME: Field = Field::new("patients", "given_name");
const FAMILY_NAME: Field = Field::new("patients", "family_name");
const DATE_OF_BIRTH: Field = Field::new("patients", "date_of_birth");
const PHONE: Field = Field::new("patients", "phone");
/// The blind index of the search by record number.
const MRN_INDEX: Field = Field::new("patients", "mrn_index");
/// The blind index of the search by family name, given name and date of birth.
const NAME_DOB_INDEX: Field = Field::new("patients", "name_dob_index");

/// A patient, as the API returns it.
#[derive(PhiResponse, RedactedDebug, ToSchema)]
pub struct Patient {
    #[schema(value_type = Uuid)]
    pub id: PatientId,
    #[schema(schema_with = Phi::<String>::schema)]
    pub mrn: Phi<String>,
    #[schema(schema_with = Phi::<String>::schema)]
    pub given_name: Phi<String>,
    #[schema(schema_with = Phi::<String>::schema)]
    pub family_name: Phi<String>,
    #[schema(schema_with = phi_guard::openapi::date)]
    pub date_of_birth: Phi<NaiveDate>,
    #[schema(schema_with = Phi::<Option<String>>::schema, required)]
    pub phone: Phi<Option<String>>,
    #[phi(serde)]
    pub created_at: DateTime<Utc>,
    #[phi(serde)]
    pub updated_at: DateTime<Utc>,
}

/// `NewPatient::mrn`'s schema, with its description: utoipa writes none beside
/// `schema_with`.
fn record_number() -> RefOr<Schema> {
    phi_guard::openapi::described(
        Phi::<String>::schema(),
        "Medical record number, unique within the clinic.",
    )
}

/// `POST /patients`. The clinic comes from the session, never from the body.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    /// Medical record number, unique within the clinic.
    #[schema(schema_with = record_number)]
    pub mrn: Phi<String>,
    #[schema(schema_with = Phi::<String>::schema)]
    pub given_name: Phi<String>,
    #[schema(schema_with = Phi::<String>::schema)]
    pub family_name: Phi<String>,
    #[schema(schema_with = phi_guard::openapi::date)]
    pub date_of_birth: Phi<NaiveDate>,
    #[serde(default)]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub phone: Phi<Option<String>>,
}

/// `PATCH /patients/{id}`: the fields present change; `"phone": null` removes the phone.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientChanges {
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub mrn: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub given_name: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub family_name: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::date)]
    pub date_of_birth: Option<Phi<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Phi::<Option<String>>::schema)]
    pub phone: Option<Phi<Option<String>>>,
}

/// `POST /patients/search`: exact match by record number, or by name and date of birth.
/// In the body, never the URL (README.md, "API").
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientSearch {
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub mrn: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub given_name: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = Phi::<String>::schema)]
    pub family_name: Option<Phi<String>>,
    #[serde(default)]
    #[schema(schema_with = phi_guard::openapi::date)]
    pub date_of_birth: Option<Phi<NaiveDate>>,
}

/// A `patients` row as selected: ciphertext until [`PatientRow::open`].
struct PatientRow {
    id: Uuid,
    mrn: Vec<u8>,
    given_name: Vec<u8>,
    family_name: Vec<u8>,
    date_of_birth: Vec<u8>,
    phone: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PatientRow {
    /// Decrypts the row. A value that fails to authenticate (altered, or copied from
    /// another row, column or clinic) fails the request rather than being served.
    fn open(self, keys: &ClinicKeys) -> Result<Patient, CryptoError> {
        let row = self.id;
        Ok(Patient {
            id: from_uuid(row),
            mrn: Phi::new(keys.open_text(MRN, row, &self.mrn)?),
            given_name: Phi::new(keys.open_text(GIVEN_NAME, row, &self.given_name)?),
            family_name: Phi::new(keys.open_text(FAMILY_NAME, row, &self.family_name)?),
            date_of_birth: Phi::new(keys.open_date(DATE_OF_BIRTH, row, &self.date_of_birth)?),
            phone: Phi::new(
                self.phone
                    .map(|phone| keys.open_text(PHONE, row, &phone))
                    .transpose()?,
            ),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A patient's values as stored: sealed to the row, with the search indexes.
struct Sealed {
    mrn: Vec<u8>,
    given_name: Vec<u8>,
    family_name: Vec<u8>,
    date_of_birth: Vec<u8>,
    phone: Option<Vec<u8>>,
    mrn_index: Vec<u8>,
    name_dob_index: Vec<u8>,
}

/// The plaintext values of a patient, checked against the limits the columns held when
/// they were plaintext (ciphertext lengths say nothing to a CHECK constraint).
struct Values {
    mrn: String,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    phone: Option<String>,
}

impl Values {
    fn checked(self) -> Result<Self, ApiError> {
        let within =
            |text: &str, max: usize| !text.trim().is_empty() && text.chars().count() <= max;
        if !within(&self.mrn, 64) {
            return Err(ApiError::invalid_field("mrn", "must be 1 to 64 characters"));
        }
        if !within(&self.given_name, 200) {
            return Err(ApiError::invalid_field(
                "given_name",
                "must be 1 to 200 characters",
            ));
        }
        if !within(&self.family_name, 200) {
            return Err(ApiError::invalid_field(
                "family_name",
                "must be 1 to 200 characters",
            ));
        }
        if self
            .phone
            .as_ref()
            .is_some_and(|phone| phone.chars().count() > 64)
        {
            return Err(ApiError::invalid_field(
                "phone",
                "must be at most 64 characters",
            ));
        }
        Ok(self)
    }
}

impl Sealed {
    fn new(keys: &ClinicKeys, row: Uuid, values: &Values) -> Result<Self, CryptoError> {
        Ok(Self {
            mrn: keys.seal_text(MRN, row, &values.mrn)?,
            given_name: keys.seal_text(GIVEN_NAME, row, &values.given_name)?,
            family_name: keys.seal_text(FAMILY_NAME, row, &values.family_name)?,
            date_of_birth: keys.seal_date(DATE_OF_BIRTH, row, values.date_of_birth)?,
            phone: values
                .phone
                .as_deref()
                .map(|phone| keys.seal_text(PHONE, row, phone))
                .transpose()?,
            mrn_index: mrn_index(keys, &values.mrn),
            name_dob_index: name_dob_index(
                keys,
                &values.family_name,
                &values.given_name,
                values.date_of_birth,
            ),
        })
    }
}

/// Record numbers match exactly, apart from surrounding spaces.
fn mrn_index(keys: &ClinicKeys, mrn: &str) -> Vec<u8> {
    keys.blind_index(MRN_INDEX, &[mrn.trim().as_bytes()])
}

/// Names match exactly apart from case and surrounding spaces, as the search always
/// has; the date of birth exactly.
fn name_dob_index(
    keys: &ClinicKeys,
    family_name: &str,
    given_name: &str,
    date_of_birth: NaiveDate,
) -> Vec<u8> {
    let family = family_name.trim().to_lowercase();
    let given = given_name.trim().to_lowercase();
    let date = date_of_birth.format("%Y-%m-%d").to_string();
    keys.blind_index(
        NAME_DOB_INDEX,
        &[family.as_bytes(), given.as_bytes(), date.as_bytes()],
    )
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
        keys: &ClinicKeys,
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
        open_rows(rows, |row| row.open(keys))
    }

    async fn create(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        new: NewPatient,
    ) -> Result<Patient, ApiError> {
        // The id is made here: every ciphertext of the row is bound to it.
        let id = Uuid::new_v4();
        let values = Values {
            mrn: new.mrn.into_exposed(),
            given_name: new.given_name.into_exposed(),
            family_name: new.family_name.into_exposed(),
            date_of_birth: new.date_of_birth.into_exposed(),
            phone: new.phone.into_exposed(),
        }
        .checked()?;
        let sealed = Sealed::new(keys, id, &values)?;
        let row = sqlx::query_as!(
            PatientRow,
            "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, phone,
                                   mrn_index, name_dob_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id, mrn, given_name, family_name, date_of_birth, phone,
                       created_at, updated_at",
            id,
            sealed.mrn,
            sealed.given_name,
            sealed.family_name,
            sealed.date_of_birth,
            sealed.phone,
            sealed.mrn_index,
            sealed.name_dob_index
        )
        .fetch_one(tx)
        .await?;
        Ok(row.open(keys)?)
    }

    async fn read(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: PatientId,
    ) -> Result<Option<Patient>, ApiError> {
        let row = sqlx::query_as!(
            PatientRow,
            "SELECT id, mrn, given_name, family_name, date_of_birth, phone, created_at, updated_at
             FROM patients WHERE id = $1 AND deleted_at IS NULL",
            to_uuid(id)
        )
        .fetch_optional(tx)
        .await?;
        Ok(row.map(|row| row.open(keys)).transpose()?)
    }

    async fn update(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: PatientId,
        changes: PatientChanges,
    ) -> Result<Option<Patient>, ApiError> {
        // The search indexes cover several fields, so the row is read, changed and
        // sealed again as a whole, locked meanwhile.
        let current = sqlx::query_as!(
            PatientRow,
            "SELECT id, mrn, given_name, family_name, date_of_birth, phone, created_at, updated_at
             FROM patients WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            to_uuid(id)
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Ok(None);
        };
        let row = current.id;
        let current = current.open(keys)?;
        let values = Values {
            mrn: changes.mrn.unwrap_or(current.mrn).into_exposed(),
            given_name: changes
                .given_name
                .unwrap_or(current.given_name)
                .into_exposed(),
            family_name: changes
                .family_name
                .unwrap_or(current.family_name)
                .into_exposed(),
            date_of_birth: changes
                .date_of_birth
                .unwrap_or(current.date_of_birth)
                .into_exposed(),
            phone: changes.phone.unwrap_or(current.phone).into_exposed(),
        }
        .checked()?;
        let sealed = Sealed::new(keys, row, &values)?;
        let updated = sqlx::query_as!(
            PatientRow,
            "UPDATE patients SET
                 mrn = $2, given_name = $3, family_name = $4, date_of_birth = $5, phone = $6,
                 mrn_index = $7, name_dob_index = $8, updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL
             RETURNING id, mrn, given_name, family_name, date_of_birth, phone,
                       created_at, updated_at",
            row,
            sealed.mrn,
            sealed.given_name,
            sealed.family_name,
            sealed.date_of_birth,
            sealed.phone,
            sealed.mrn_index,
            sealed.name_dob_index
        )
        .fetch_optional(tx)
        .await?;
        Ok(updated.map(|row| row.open(keys)).transpose()?)
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
        keys: &ClinicKeys,
        search: PatientSearch,
    ) -> Result<Vec<Patient>, ApiError> {
        let index = match search {
            PatientSearch {
                mrn: Some(mrn),
                given_name: None,
                family_name: None,
                date_of_birth: None,
            } => mrn_index(keys, mrn.expose()),
            PatientSearch {
                mrn: None,
                given_name: Some(given_name),
                family_name: Some(family_name),
                date_of_birth: Some(date_of_birth),
            } => name_dob_index(
                keys,
                family_name.expose(),
                given_name.expose(),
                *date_of_birth.expose(),
            ),
            _ => {
                return Err(ApiError::Invalid(
                    "search by mrn alone, or by given_name, family_name and date_of_birth",
                ));
            }
        };
        // Each index has its own key and input, so one query serves both searches: an
        // MRN's index never equals a name's.
        let rows = sqlx::query_as!(
            PatientRow,
            "SELECT id, mrn, given_name, family_name, date_of_birth, phone,
                    created_at, updated_at
             FROM patients
             WHERE (mrn_index = $1 OR name_dob_index = $1) AND deleted_at IS NULL
             ORDER BY id LIMIT $2",
            index,
            MAX_PAGE
        )
        .fetch_all(tx)
        .await?;
        open_rows(rows, |row| row.open(keys))
    }
}
