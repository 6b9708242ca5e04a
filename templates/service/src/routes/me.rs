//! The caller's own account (README.md, "Accounts"): who the session belongs to, the
//! password, recovery codes and sessions. No PHI: the user's own account. Every account
//! may do these for itself and nobody else ([`Resource::OwnAccount`]).

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use phi_guard::{PhiJson, PhiResponse, SafePath};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::credentials::{self, PasswordChange, RecoveryCodes};
use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::store::session as sessions;
use crate::auth::{Action, Caller, Resource, Role};
use crate::error::ApiError;
use crate::ids::{ClinicId, SessionId, UserId, from_uuid, to_uuid};
use crate::models::clinic;
use crate::routes::openapi::Body;
use crate::routes::{Doc, JsonBody, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    let doc = Doc::signed_in;
    vec![
        Route::new(
            Method::GET,
            "/me",
            get(me),
            doc(
                "the current user, role and clinic",
                None,
                200,
                Some(Body::json::<Me>()),
            ),
        ),
        Route::new(
            Method::POST,
            "/me/password",
            post(change_password),
            doc(
                "change the password (the current one is required); the account's other sessions end",
                Some(Body::json::<PasswordChange>()),
                204,
                None,
            ),
        ),
        Route::new(
            Method::POST,
            "/me/mfa/recovery-codes",
            post(recovery_codes),
            doc(
                "10 new recovery codes, shown once; the old ones stop working (second factor in the last 5 minutes)",
                None,
                201,
                Some(Body::json::<RecoveryCodes>()),
            ),
        ),
        Route::new(
            Method::GET,
            "/me/sessions",
            get(sessions),
            doc(
                "the caller's sessions: created, last seen, source address, current or not",
                None,
                200,
                Some(Body::json::<SessionList>()),
            ),
        ),
        Route::new(
            Method::DELETE,
            "/me/sessions/{id}",
            delete(revoke_session),
            doc("end one of the caller's sessions", None, 204, None),
        ),
    ]
}

/// One of the caller's sessions. No token, no hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    #[schema(value_type = Uuid)]
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The address it signed in from.
    pub source: Option<String>,
    /// Whether it is the session making this request.
    pub current: bool,
}

/// `GET /me/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

/// The signed-in user.
#[derive(Debug, PhiResponse, ToSchema)]
pub struct Me {
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub email: String,
    #[phi(serde)]
    pub role: Role,
    #[schema(value_type = Uuid)]
    pub clinic_id: ClinicId,
    pub clinic_name: String,
}

pub(crate) async fn me(mut caller: Caller) -> Result<PhiJson<Me>, ApiError> {
    let clinic = clinic::get(&mut caller.tx, caller.user.clinic_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let me = Me {
        user_id: caller.user.id,
        email: caller.user.email.clone(),
        role: caller.user.role,
        clinic_id: clinic.id,
        clinic_name: clinic.name,
    };
    caller.commit().await?;
    Ok(PhiJson(me))
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<StatusCode, ApiError> {
    credentials::change_password(&state, caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    let codes = credentials::renew_recovery_codes(&state, caller).await?;
    Ok((StatusCode::CREATED, Json(codes)))
}

pub(crate) async fn sessions(caller: Caller) -> Result<Json<SessionList>, ApiError> {
    let mut caller = caller
        .require(Action::Read, Resource::OwnAccount, None)
        .await?;
    let current = caller.session_id;
    let list = sessions::list_for_user(&mut caller.tx, caller.user.id).await?;
    caller.commit().await?;
    Ok(Json(SessionList {
        sessions: list
            .into_iter()
            .map(|session| SessionView {
                id: from_uuid(session.id),
                created_at: session.created_at,
                last_seen_at: session.last_seen_at,
                source: session.source,
                current: session.id == current,
            })
            .collect(),
    }))
}

/// Ends one of the caller's own sessions; another account's session id is not found,
/// and the attempt is on the record.
pub(crate) async fn revoke_session(
    caller: Caller,
    SafePath(id): SafePath<SessionId>,
) -> Result<StatusCode, ApiError> {
    let mut caller = caller
        .require(Action::Delete, Resource::OwnAccount, Some(id.into()))
        .await?;
    let ended = sessions::delete_of_user(&mut caller.tx, to_uuid(id), caller.user.id).await?;
    let outcome = if ended {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let event = Event::new(AuditAction::RevokeSession, outcome).on("sessions", Some(to_uuid(id)));
    caller.record(&[event]).await?;
    caller.commit().await?;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
