//! `PUT /patients/{id}/restriction`: restricts a patient to its care team, or lifts the
//! restriction (HIPAA 164.312(a)(1) access control). Clinicians
//! only, and only those already in the patient's care: a clinician who sees the patient
//! through a break-glass grant may treat it, not decide who else may (403); one who does
//! not see it gets 404, as for any record they cannot see.

use axum::http::Method;
use axum::routing::put;
use phi_guard::{PhiJson, SafePath};

use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::{Action, Caller, Resource};
use crate::error::ApiError;
use crate::ids::{PatientId, to_uuid};
use crate::models::restriction::{self, Restriction, RestrictionChange, Standing};
use crate::routes::openapi::Body;
use crate::routes::{Doc, JsonBody, Route};

pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::PUT,
        "/patients/{id}/restriction",
        put(set),
        Doc {
            summary: "restrict a patient to its care team (the caller included), or lift it",
            public: false,
            request: Some(Body::json::<RestrictionChange>()),
            status: 200,
            response: Some(Body::json::<Restriction>()),
            query: None,
        },
    )]
}

async fn set(
    caller: Caller,
    SafePath(id): SafePath<PatientId>,
    body: JsonBody,
) -> Result<PhiJson<Restriction>, ApiError> {
    let mut caller = caller
        .require(Action::Update, Resource::Restrictions, Some(id.into()))
        .await?;
    let change: RestrictionChange = body.parse()?;
    if !change.restricted && !change.care_team.is_empty() {
        return Err(ApiError::invalid_field(
            "care_team",
            "must be empty unless the patient is restricted",
        ));
    }
    match restriction::standing(&mut caller.tx, id).await? {
        Standing::Unseen => {
            return caller
                .conclude(AuditAction::Update, Resource::Restrictions, id.into(), None)
                .await;
        }
        Standing::BreakGlassOnly => {
            // HIPAA 164.312(b): the refusal is on the record.
            let denied = Event::new(AuditAction::Denied, Outcome::Denied)
                .on(Resource::Restrictions.table(), Some(to_uuid(id)));
            caller.record(&[denied]).await?;
            caller.commit().await?;
            return Err(ApiError::Forbidden);
        }
        Standing::InCare => {}
    }
    let restriction = if change.restricted {
        restriction::restrict(&mut caller.tx, id, caller.user.id, &change.care_team).await?
    } else {
        restriction::lift(&mut caller.tx, id).await?
    };
    let restriction = caller
        .conclude(
            AuditAction::Update,
            Resource::Restrictions,
            id.into(),
            Some(restriction),
        )
        .await?;
    Ok(PhiJson(restriction))
}
