//! Restricted patients and their care teams (`patient_restrictions`, `care_team`,
//! migrations/0008_break_glass.sql). A restricted patient, and every clinical record of
//! it, is visible only to the clinicians on its care team and to holders of an unexpired
//! break-glass grant ([`emergency_access`](super::emergency_access)); row-level security
//! enforces it, these functions only change who is in.

use phi_guard::PhiResponse;
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::ids::{PatientId, UserId, from_uuid, to_uuid};

/// The most accounts a care team holds.
pub const MAX_CARE_TEAM: usize = 100;

/// `PUT /patients/{id}/restriction`. The caller is always on the care team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionChange {
    pub restricted: bool,
    /// Clinicians of the clinic who may see the patient; only for a restricted patient.
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>)]
    pub care_team: Vec<UserId>,
}

/// A patient's restriction, as the API returns it: ids only.
#[derive(Debug, PhiResponse, ToSchema)]
pub struct Restriction {
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    pub restricted: bool,
    #[schema(value_type = Vec<Uuid>)]
    pub care_team: Vec<UserId>,
}

/// Where the transaction's user stands with a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No such patient that the user can see: not found, whatever the reason.
    Unseen,
    /// Seen through a break-glass grant only: enough to treat, not to decide who else may.
    BreakGlassOnly,
    /// In the patient's care: the patient is not restricted, or the user is on its team.
    InCare,
}

/// Whether the transaction's user sees `patient`, and how.
pub async fn standing(tx: &mut PgConnection, patient: PatientId) -> Result<Standing, ApiError> {
    let in_care = sqlx::query_scalar!(
        r#"SELECT app.patient_in_care(id) AS "in_care!"
           FROM patients WHERE id = $1 AND deleted_at IS NULL"#,
        to_uuid(patient)
    )
    .fetch_optional(tx)
    .await?;
    Ok(match in_care {
        None => Standing::Unseen,
        Some(false) => Standing::BreakGlassOnly,
        Some(true) => Standing::InCare,
    })
}

/// Restricts `patient` to `caller` and `care_team` (replacing the team it had). Members
/// must be active clinicians of the clinic.
///
/// The order keeps the caller in the patient's care throughout, as the policies demand:
/// the new members first, then the removal of the others, then the restriction.
pub async fn restrict(
    tx: &mut PgConnection,
    patient: PatientId,
    caller: UserId,
    care_team: &[UserId],
) -> Result<Restriction, ApiError> {
    let mut members: Vec<Uuid> = care_team.iter().copied().map(to_uuid).collect();
    members.push(to_uuid(caller));
    members.sort_unstable();
    members.dedup();
    if members.len() > MAX_CARE_TEAM {
        return Err(ApiError::invalid_field(
            "care_team",
            "must hold at most 100 accounts",
        ));
    }
    let clinicians = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users
           WHERE id = ANY($1) AND role = 'clinician' AND disabled_at IS NULL"#,
        &members
    )
    .fetch_one(&mut *tx)
    .await?;
    if usize::try_from(clinicians).ok() != Some(members.len()) {
        return Err(ApiError::invalid_field(
            "care_team",
            "must hold only active clinicians of this clinic",
        ));
    }
    let patient = to_uuid(patient);
    sqlx::query!(
        "INSERT INTO care_team (patient_id, user_id) SELECT $1, unnest($2::uuid[])
         ON CONFLICT DO NOTHING",
        patient,
        &members
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM care_team WHERE patient_id = $1 AND NOT (user_id = ANY($2))",
        patient,
        &members
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO patient_restrictions (patient_id) VALUES ($1) ON CONFLICT DO NOTHING",
        patient
    )
    .execute(&mut *tx)
    .await?;
    Ok(Restriction {
        patient_id: from_uuid(patient),
        restricted: true,
        care_team: members.into_iter().map(from_uuid).collect(),
    })
}

/// Lifts the restriction of `patient` and dissolves its care team: the clinic's normal
/// rules apply again.
pub async fn lift(tx: &mut PgConnection, patient: PatientId) -> Result<Restriction, ApiError> {
    let patient = to_uuid(patient);
    sqlx::query!(
        "DELETE FROM patient_restrictions WHERE patient_id = $1",
        patient
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM care_team WHERE patient_id = $1", patient)
        .execute(&mut *tx)
        .await?;
    Ok(Restriction {
        patient_id: from_uuid(patient),
        restricted: false,
        care_team: Vec::new(),
    })
}
