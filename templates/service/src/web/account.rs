//! The signed-in user's own account: the password (the current one is needed, and the
//! account's other sessions end: NIST SP 800-63B §6.1.2.3), and the sessions it has open,
//! each of which it may end (HIPAA 164.312(a)(2)(iii)). Through the API's own handlers.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use phi_guard::SafePath;
use serde_json::json;

use super::page::{self, Chrome, PageError};
use super::viewer::{Posted, Viewer};
use crate::accounts::credentials;
use crate::error::ApiError;
use crate::ids::SessionId;
use crate::request::JsonBody;
use crate::routes::me;
use crate::state::AppState;

/// The account page's place in the navigation bar.
const ACCOUNT: &str = "/app/account";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ACCOUNT, get(show))
        .route("/app/account/password", post(change_password))
        .route("/app/account/sessions/{id}/end", post(end_session))
}

/// One of the user's sessions, as the page lists it.
pub struct SessionRow {
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub source: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    chrome: Option<&'a Chrome>,
    sessions: Vec<SessionRow>,
}

const TIME: &str = "%Y-%m-%d %H:%M UTC";

async fn show(viewer: Viewer) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let list = me::sessions(caller).await?.0;
    let chrome = chrome.at(ACCOUNT);
    Ok(page::render(
        StatusCode::OK,
        &AccountPage {
            chrome: Some(&chrome),
            sessions: list
                .sessions
                .into_iter()
                .map(|session| SessionRow {
                    id: session.id.to_string(),
                    created: session.created_at.format(TIME).to_string(),
                    last_seen: session.last_seen_at.format(TIME).to_string(),
                    source: session
                        .source
                        .map(|source| source.to_string())
                        .unwrap_or_default(),
                    current: session.current,
                })
                .collect(),
        },
    ))
}

async fn change_password(
    State(state): State<AppState>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let body = JsonBody::from_value(&json!({
        "current_password": fields.raw("current_password"),
        "new_password": fields.raw("new_password"),
    }));
    let outcome = credentials::change_password(&state, caller, body).await;
    let chrome = chrome.at(ACCOUNT);
    let (status, title, message) = match outcome {
        Ok(()) => (
            StatusCode::OK,
            "Password changed",
            "Your password is changed, and your other sessions have ended.".to_owned(),
        ),
        Err(ApiError::Unauthorized) => (
            StatusCode::UNAUTHORIZED,
            "Password not changed",
            "The current password is not right.".to_owned(),
        ),
        Err(ApiError::InvalidField { field, .. }) if field == "current_password" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Password not changed",
            "The current password is not right.".to_owned(),
        ),
        Err(ApiError::InvalidField { rule, .. } | ApiError::Invalid(rule)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Password not changed",
            format!("The new password {rule}."),
        ),
        Err(error) => return Err(error.into()),
    };
    Ok(page::notice(&chrome, status, title, &message, ACCOUNT))
}

async fn end_session(
    SafePath(id): SafePath<SessionId>,
    Posted { viewer, .. }: Posted,
) -> Result<Response, PageError> {
    me::revoke_session(viewer.caller, SafePath(id)).await?;
    Ok(page::see_other(ACCOUNT))
}
