//! The records the service stores, one module per table, each the one place where its
//! rows map to domain types (PHI columns to `phi_guard::Phi` fields). Queries are checked
//! at compile time (`sqlx::query!`) and run in a transaction scoped to one clinic, so
//! row-level security filters every one of them.
//!
//! The tables of the layers beneath keep their own modules there: the accounts and
//! sessions in `crate::auth::store`, the audit trail in `crate::audit::store`, the wrapped
//! keys in `crate::crypto::tenant_key`.

use std::future::Future;

use phi_guard::{OpaqueId, ResponseBody, UrlSafe};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Resource;
use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;

{% if modules contains "appointments" %}pub mod appointment;
{% endif %}pub mod clinic;
pub mod emergency_access;
{%- if modules contains "encounters" %}
pub mod encounter;
{%- endif %}
pub mod fields;
/// The ids moved to [`crate::ids`], beneath every module that names a record; resource
/// templates of a team's template may still name them here.
pub use crate::ids;
{%- if modules contains "notes" %}
pub mod note;
{%- endif %}
pub mod patient;
pub mod restriction;
// The resources added with `medforge add resource`, which writes between these lines.
// medforge:resource-models:start
// medforge:resource-models:end

/// The most records one page holds.
pub const MAX_PAGE: i64 = 200;

/// The longest reason of an encounter or appointment, in characters.
pub const MAX_REASON: usize = 2000;

/// Decrypts `rows` with `open`: the records, or the first failure (a value altered or
/// moved from another row, which is never served).
pub fn open_rows<R, T>(
    rows: Vec<R>,
    open: impl Fn(R) -> Result<T, CryptoError>,
) -> Result<Vec<T>, ApiError> {
    rows.into_iter()
        .map(|row| open(row).map_err(ApiError::from))
        .collect()
}

/// An optional reason, sealed for `field` of the record `row`, once it is within
/// [`MAX_REASON`]: the column holds ciphertext, so the bound is checked here.
pub fn seal_reason(
    keys: &ClinicKeys,
    field: Field,
    row: Uuid,
    reason: Option<&str>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(reason) = reason else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::invalid_field(
            "reason",
            "must be at most 2000 characters",
        ));
    }
    Ok(Some(keys.seal_text(field, row, reason)?))
}

/// The stored records of one clinical resource (patients, encounters, ...): what the HTTP
/// routes in `routes::resource` serve, each behind the access matrix. `keys` are the
/// clinic's: the PHI columns are sealed and opened with them (`crate::crypto`).
pub trait ClinicalRecords: Send + Sync + 'static {
    /// The row of the access matrix that covers these records.
    const RESOURCE: Resource;
    /// How a record is named in URLs.
    type Id: UrlSafe + DeserializeOwned + From<OpaqueId> + Into<OpaqueId> + Copy + Send + 'static;
    /// A record, as responses carry it. Each type's schema is what `GET /openapi.json`
    /// publishes for it.
    type Record: ResponseBody + ToSchema + Send + 'static;
    /// A request body that creates a record.
    type New: DeserializeOwned + ToSchema + Send + 'static;
    /// A request body that changes some fields of a record.
    type Changes: DeserializeOwned + ToSchema + Send + 'static;
    /// A request body that finds records by exact match.
    type Search: DeserializeOwned + ToSchema + Send + 'static;

    /// The id of `record`, for paging.
    fn id_of(record: &Self::Record) -> OpaqueId;

    /// Up to `limit` records with ids after `after`, in id order.
    fn list(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        after: Option<Self::Id>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Record>, ApiError>> + Send;

    fn create(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        new: Self::New,
    ) -> impl Future<Output = Result<Self::Record, ApiError>> + Send;

    fn read(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: Self::Id,
    ) -> impl Future<Output = Result<Option<Self::Record>, ApiError>> + Send;

    fn update(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        id: Self::Id,
        changes: Self::Changes,
    ) -> impl Future<Output = Result<Option<Self::Record>, ApiError>> + Send;

    /// Soft-deletes the record; whether there was one to delete.
    fn delete(
        tx: &mut PgConnection,
        id: Self::Id,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    fn search(
        tx: &mut PgConnection,
        keys: &ClinicKeys,
        search: Self::Search,
    ) -> impl Future<Output = Result<Vec<Self::Record>, ApiError>> + Send;
}

/// For optional fields a PATCH may set to null: absent is `None` (unchanged), present is
/// `Some`, null included (`#[serde(default, deserialize_with = "present")]`).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
