//! The clinic's accounts, run by its admins (README.md, "Accounts"; HIPAA 164.308(a)(4)
//! access authorization, 164.308(a)(3)(ii)(C) termination procedures). Who may call
//! these is the access matrix's decision ([`crate::auth::Resource::Accounts`]): admins
//! only, and every refusal is on the record. Ids in the URL are opaque; emails, roles and
//! tokens travel in bodies.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use phi_guard::SafePath;

use super::openapi::Body;
use super::{Doc, JsonBody, Route};
use crate::accounts::administration::{
    self, AccountChanges, AccountList, AccountView, IssuedReset,
};
use crate::accounts::invitations::{self, Invitation, InviteRequest};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    let doc = Doc::signed_in;
    vec![
        Route::new(
            Method::GET,
            "/users",
            get(list),
            doc(
                "the clinic's accounts, with role, state, MFA enrolled and last login (admin)",
                None,
                200,
                Some(Body::json::<AccountList>()),
            ),
        ),
        Route::new(
            Method::POST,
            "/users/invitations",
            post(invite),
            doc(
                "invite an email address into a role: a single-use token, shown once, expiring in 72 h (admin)",
                Some(Body::json::<InviteRequest>()),
                201,
                Some(Body::json::<Invitation>()),
            ),
        ),
        Route::new(
            Method::PATCH,
            "/users/{id}",
            patch(change),
            doc(
                "change an account's role or state, at once; its sessions end (admin)",
                Some(Body::json::<AccountChanges>()),
                200,
                Some(Body::json::<AccountView>()),
            ),
        ),
        Route::new(
            Method::POST,
            "/users/{id}/password-reset",
            post(reset),
            doc(
                "a single-use reset token (1 h), shown once, for out-of-band delivery; the account's sessions end (admin)",
                None,
                201,
                Some(Body::json::<IssuedReset>()),
            ),
        ),
        Route::new(
            Method::DELETE,
            "/users/{id}/sessions",
            delete(end_sessions),
            doc("end every session of an account (admin)", None, 204, None),
        ),
    ]
}

// Every answer is `no-store` (middleware::security_headers): these hold tokens and the
// clinic's account list.

pub(crate) async fn list(caller: Caller) -> Result<Json<AccountList>, ApiError> {
    Ok(Json(administration::list(caller).await?))
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let invitation = invitations::invite(&state, caller, body).await?;
    Ok((StatusCode::CREATED, Json(invitation)).into_response())
}

pub(crate) async fn change(
    caller: Caller,
    SafePath(id): SafePath<UserId>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let account = administration::change(caller, id, body).await?;
    Ok(Json(account).into_response())
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    SafePath(id): SafePath<UserId>,
) -> Result<Response, ApiError> {
    let issued = administration::issue_reset(&state, caller, id).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

pub(crate) async fn end_sessions(
    caller: Caller,
    SafePath(id): SafePath<UserId>,
) -> Result<StatusCode, ApiError> {
    administration::end_sessions(caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
