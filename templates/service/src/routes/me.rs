//! `GET /me`: who the session belongs to. No PHI: the user's own account.

use axum::http::Method;
use axum::routing::get;
use phi_guard::{PhiJson, PhiResponse};
use utoipa::ToSchema;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::models::clinic;
use crate::models::ids::{ClinicId, UserId};
use crate::routes::openapi::Body;
use crate::routes::{Doc, Route};

pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/me",
        get(me),
        Doc {
            summary: "the current user, role and clinic",
            public: false,
            request: None,
            status: 200,
            response: Some(Body::json::<Me>()),
            query: None,
        },
    )]
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

async fn me(mut caller: Caller) -> Result<PhiJson<Me>, ApiError> {
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
