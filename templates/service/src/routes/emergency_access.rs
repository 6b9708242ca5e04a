//! Break-glass (HIPAA 164.312(a)(2)(ii) emergency access procedure, 164.312(b)
//! audit controls):
//!
//! | method and path | who | what |
//! |---|---|---|
//! | `POST /emergency-access` | clinician | `{"patient_id","reason"}`: the caller sees that patient for [`EMERGENCY_ACCESS_LIFETIME`](crate::models::emergency_access::EMERGENCY_ACCESS_LIFETIME) |
//! | `GET /emergency-access` | auditor | the grants flagged for review (paged) |
//! | `POST /emergency-access/{id}/review` | auditor | marks a grant reviewed |
//!
//! Every grant writes a `break_glass` event on `patients/<id>` in its own transaction and
//! stays flagged (`reviewed_at` null) until an auditor reviews it.
//!
//! Existence: a patient the caller cannot see is otherwise not found, whatever the
//! reason. Breaking the glass on an id necessarily tells a clinician whether it names a
//! patient of their clinic (201 or 404), since a restricted patient is invisible to them
//! by design. Ids are random UUIDs, and each attempt, found or not, is on the record as
//! `break_glass` with its outcome, and an id that names no patient also as a `probe`, so
//! probing shows in the audit trail (compliance/risk-analysis.md).

use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use phi_guard::{PhiJson, SafePath, SafeQuery};

use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::{Action, Caller, Resource};
use crate::error::ApiError;
use crate::ids::to_uuid;
use crate::models::MAX_PAGE;
use crate::models::emergency_access::{
    self as grants, BreakGlassRequest, EmergencyAccessId, Grant, Granted,
};
use crate::routes::openapi::{self, Body};
use crate::routes::resource::{DEFAULT_PAGE, Page, Paging};
use crate::routes::{Doc, JsonBody, Route};

pub fn routes() -> Vec<Route> {
    let doc = Doc::signed_in;
    vec![
        Route::new(
            Method::POST,
            "/emergency-access",
            post(break_glass),
            doc(
                "break-glass: time-limited access to one patient, with a mandatory reason, audited and flagged for review",
                Some(Body::json::<BreakGlassRequest>()),
                201,
                Some(Body::json::<Granted>()),
            ),
        ),
        Route::new(
            Method::GET,
            "/emergency-access",
            get(flagged),
            Doc {
                query: Some(openapi::query::<Paging>),
                ..doc(
                    "break-glass grants flagged for review",
                    None,
                    200,
                    Some(Body::page::<Grant>()),
                )
            },
        ),
        Route::new(
            Method::POST,
            "/emergency-access/{id}/review",
            post(review),
            doc(
                "mark a break-glass grant reviewed",
                None,
                200,
                Some(Body::json::<Grant>()),
            ),
        ),
    ]
}

pub(crate) async fn break_glass(
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, PhiJson<Granted>), ApiError> {
    let mut caller = caller
        .require(Action::Create, Resource::EmergencyAccess, None)
        .await?;
    let request: BreakGlassRequest = match body.parse() {
        Ok(request) => request,
        Err(error) => {
            return Err(caller
                .fail(AuditAction::BreakGlass, Resource::Patients, None, error)
                .await);
        }
    };
    let reason = match request.reason() {
        Ok(reason) => reason,
        Err(error) => {
            return Err(caller
                .fail(
                    AuditAction::BreakGlass,
                    Resource::Patients,
                    Some(request.patient_id.into()),
                    error,
                )
                .await);
        }
    };
    let granted =
        grants::break_glass(&mut caller.tx, &caller.keys, request.patient_id, reason).await?;
    if granted.is_none() {
        // An id that names no patient of the clinic: possibly someone probing for
        // patients they cannot see (compliance/risk-analysis.md).
        caller
            .record(&[Event::new(AuditAction::Probe, Outcome::Failure).on(
                Resource::Patients.table(),
                Some(to_uuid(request.patient_id)),
            )])
            .await?;
    }
    // HIPAA 164.312(b): the grant commits with its break_glass event, or neither does.
    let granted = caller
        .conclude(
            AuditAction::BreakGlass,
            Resource::Patients,
            request.patient_id.into(),
            granted,
        )
        .await?;
    // For alerting: someone is seeing a patient outside the normal rules right now.
    tracing::warn!(grant = %granted.id, "break-glass access granted, flagged for review");
    Ok((StatusCode::CREATED, PhiJson(granted)))
}

pub(crate) async fn flagged(
    caller: Caller,
    SafeQuery(paging): SafeQuery<Paging>,
) -> Result<PhiJson<Page<Grant>>, ApiError> {
    let mut caller = caller
        .require(Action::Read, Resource::EmergencyAccess, None)
        .await?;
    // Capped here, not only in the query: a full page at the cap has a next page.
    let limit = i64::from(paging.limit.unwrap_or(DEFAULT_PAGE)).clamp(1, MAX_PAGE);
    let items = grants::unreviewed(
        &mut caller.tx,
        &caller.keys,
        paging.after.map(EmergencyAccessId::from),
        limit,
    )
    .await?;
    // The reasons are PHI: one read event per grant shown.
    let ids = items.iter().map(|grant| to_uuid(grant.id));
    caller
        .record(&Event::each(
            AuditAction::Read,
            Resource::EmergencyAccess.table(),
            ids,
        ))
        .await?;
    caller.commit().await?;
    let next_after = if items.len() as i64 >= limit {
        items.last().map(|grant| grant.id.into())
    } else {
        None
    };
    Ok(PhiJson(Page { items, next_after }))
}

pub(crate) async fn review(
    caller: Caller,
    SafePath(id): SafePath<EmergencyAccessId>,
) -> Result<PhiJson<Grant>, ApiError> {
    let mut caller = caller
        .require(Action::Update, Resource::EmergencyAccess, Some(id.into()))
        .await?;
    let grant = grants::review(&mut caller.tx, &caller.keys, id).await?;
    let grant = caller
        .conclude(
            AuditAction::Update,
            Resource::EmergencyAccess,
            id.into(),
            grant,
        )
        .await?;
    Ok(PhiJson(grant))
}
