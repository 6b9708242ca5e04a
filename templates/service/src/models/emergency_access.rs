//! Break-glass grants (`emergency_access`, migrations/0008_break_glass.sql): one
//! clinician's time-limited access to one restricted patient, with a mandatory reason,
//! flagged until an auditor reviews it. HIPAA 164.312(a)(2)(ii) emergency access.
//!
//! The reason is PHI (it may carry clinical context), stored as AES-256-GCM ciphertext
//! bound to its grant (`crate::crypto`): [`break_glass`] is the one place it is sealed and
//! [`GrantRow::open`] the one place it is opened.

use chrono::{DateTime, Duration, Utc};
use phi_guard::{Phi, PhiResponse, RedactedDebug, opaque_id};
use serde::Deserialize;
use sqlx::{Connection, PgConnection};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{MAX_PAGE, open_rows};
use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;
use crate::ids::{PatientId, UserId, from_uuid, to_uuid};

const REASON: Field = Field::new("emergency_access", "reason");

/// How long a break-glass grant lasts. The database sets it (the default of
/// `emergency_access.expires_at`; the service may not choose it), and a test checks the two
/// agree: long enough for an emergency, short enough that access ends with it.
pub const EMERGENCY_ACCESS_LIFETIME: Duration = Duration::minutes(60);

/// The shortest reason accepted, in characters once trimmed: a word or two does not
/// justify breaking the glass.
pub const MIN_REASON_CHARS: usize = 20;
/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

opaque_id! {
    /// A break-glass grant.
    pub struct EmergencyAccessId;
}

/// `POST /emergency-access`.
#[derive(Deserialize, RedactedDebug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    /// Why the normal rules do not suffice; reviewed by an auditor.
    #[schema(schema_with = reason_schema)]
    pub reason: Phi<String>,
}

/// The schema of [`BreakGlassRequest::reason`]: PHI, of the length [`BreakGlassRequest::reason`]
/// accepts.
fn reason_schema() -> RefOr<Schema> {
    phi_guard::openapi::marked(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(MIN_REASON_CHARS))
            .max_length(Some(MAX_REASON_CHARS)),
    )
}

impl BreakGlassRequest {
    /// The reason, trimmed, when it is long enough to justify anything.
    pub fn reason(&self) -> Result<Phi<&str>, ApiError> {
        let reason = self.reason.expose().trim();
        let chars = reason.chars().count();
        if (MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&chars) {
            Ok(Phi::new(reason))
        } else {
            Err(ApiError::invalid_field(
                "reason",
                "must be 20 to 2000 characters saying why the emergency needs this patient",
            ))
        }
    }
}

/// What the clinician who broke the glass gets back.
#[derive(PhiResponse, Debug, ToSchema)]
#[schema(as = EmergencyGrant)]
pub struct Granted {
    #[schema(value_type = Uuid)]
    pub id: EmergencyAccessId,
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    #[phi(serde)]
    pub expires_at: DateTime<Utc>,
}

/// A grant as auditors review it.
#[derive(PhiResponse, RedactedDebug, ToSchema)]
#[schema(as = EmergencyAccess)]
pub struct Grant {
    #[schema(value_type = Uuid)]
    pub id: EmergencyAccessId,
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    /// The clinician who broke the glass.
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    #[schema(schema_with = Phi::<String>::schema)]
    pub reason: Phi<String>,
    #[phi(serde)]
    pub granted_at: DateTime<Utc>,
    #[phi(serde)]
    pub expires_at: DateTime<Utc>,
    #[phi(serde)]
    #[schema(required)]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Uuid>, required)]
    pub reviewed_by: Option<UserId>,
}

/// An `emergency_access` row as selected.
struct GrantRow {
    id: Uuid,
    patient_id: Uuid,
    user_id: Uuid,
    reason: Vec<u8>,
    granted_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    reviewed_at: Option<DateTime<Utc>>,
    reviewed_by: Option<Uuid>,
}

impl GrantRow {
    fn open(self, keys: &ClinicKeys) -> Result<Grant, CryptoError> {
        Ok(Grant {
            reason: Phi::new(keys.open_text(REASON, self.id, &self.reason)?),
            id: from_uuid(self.id),
            patient_id: from_uuid(self.patient_id),
            user_id: from_uuid(self.user_id),
            granted_at: self.granted_at,
            expires_at: self.expires_at,
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by.map(from_uuid),
        })
    }
}

/// Grants the transaction's user access to `patient` for [`EMERGENCY_ACCESS_LIFETIME`];
/// `None` when the clinic has no such patient.
///
/// The patient may be invisible to the caller (that is the point), so its existence is
/// checked by the foreign key, which row-level security does not filter. The insert runs
/// in a savepoint, so a missing patient leaves the transaction usable for the audit event
/// of the failed attempt.
pub async fn break_glass(
    tx: &mut PgConnection,
    keys: &ClinicKeys,
    patient: PatientId,
    reason: Phi<&str>,
) -> Result<Option<Granted>, ApiError> {
    let id = Uuid::new_v4();
    let sealed = keys.seal_text(REASON, id, reason.expose())?;
    let mut savepoint = tx.begin().await?;
    let inserted = sqlx::query!(
        "INSERT INTO emergency_access (id, patient_id, reason) VALUES ($1, $2, $3)
         RETURNING id, patient_id, expires_at",
        id,
        to_uuid(patient),
        sealed
    )
    .fetch_one(&mut *savepoint)
    .await;
    match inserted {
        Ok(row) => {
            savepoint.commit().await?;
            Ok(Some(Granted {
                id: from_uuid(row.id),
                patient_id: from_uuid(row.patient_id),
                expires_at: row.expires_at,
            }))
        }
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            savepoint.rollback().await?;
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// Up to `limit` grants no auditor has reviewed yet, after `after`, in id order.
pub async fn unreviewed(
    tx: &mut PgConnection,
    keys: &ClinicKeys,
    after: Option<EmergencyAccessId>,
    limit: i64,
) -> Result<Vec<Grant>, ApiError> {
    let rows = sqlx::query_as!(
        GrantRow,
        "SELECT id, patient_id, user_id, reason, granted_at, expires_at, reviewed_at, reviewed_by
         FROM emergency_access
         WHERE reviewed_at IS NULL AND ($1::uuid IS NULL OR id > $1)
         ORDER BY id LIMIT $2",
        after.map(to_uuid),
        limit.clamp(1, MAX_PAGE)
    )
    .fetch_all(tx)
    .await?;
    open_rows(rows, |row| row.open(keys))
}

/// Marks the unreviewed grant `id` reviewed by the transaction's user; `None` when there
/// is no such grant, or it was reviewed already (a review is final).
pub async fn review(
    tx: &mut PgConnection,
    keys: &ClinicKeys,
    id: EmergencyAccessId,
) -> Result<Option<Grant>, ApiError> {
    let row = sqlx::query_as!(
        GrantRow,
        "UPDATE emergency_access SET reviewed_at = now(), reviewed_by = app.current_user_id()
         WHERE id = $1 AND reviewed_at IS NULL
         RETURNING id, patient_id, user_id, reason, granted_at, expires_at, reviewed_at,
                   reviewed_by",
        to_uuid(id)
    )
    .fetch_optional(tx)
    .await?;
    Ok(row.map(|row| row.open(keys)).transpose()?)
}
