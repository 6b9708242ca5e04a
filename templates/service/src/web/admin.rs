//! The admin's pages: the clinic's accounts, invitations, role and state changes, password
//! resets and ending an account's sessions (HIPAA 164.308(a)(3)(ii)(C) termination,
//! 164.308(a)(4) access authorization). Each is the accounts flow the API calls
//! ([`crate::accounts`]), with its rules (the clinic's last admin stays, a role change
//! needs this session's second factor) and its audit events. Tokens for invitations and
//! resets are shown once, on the page that made them, to hand over out of band.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use phi_guard::SafePath;
use serde_json::{Value, json};

use super::page::{self, Chrome, PageError};
use super::viewer::{Posted, Viewer};
use crate::accounts::{administration, invitations};
use crate::auth::Role;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::request::JsonBody;
use crate::state::AppState;

/// The admin pages' place in the navigation bar.
const ADMIN: &str = "/app/admin";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ADMIN, get(accounts))
        .route("/app/admin/invitations", post(invite))
        .route("/app/admin/users/{id}", post(change))
        .route("/app/admin/users/{id}/reset", post(reset))
        .route("/app/admin/users/{id}/sessions/end", post(end_sessions))
}

/// An account as the page lists it.
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub mfa_enrolled: bool,
    pub last_sign_in: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AccountsPage<'a> {
    chrome: Option<&'a Chrome>,
    accounts: Vec<AccountRow>,
    roles: [Role; 4],
}

async fn accounts(viewer: Viewer) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let list = administration::list(caller).await?;
    let chrome = chrome.at(ADMIN);
    Ok(page::render(
        StatusCode::OK,
        &AccountsPage {
            chrome: Some(&chrome),
            accounts: list
                .users
                .into_iter()
                .map(|account| AccountRow {
                    id: account.id.to_string(),
                    email: account.email,
                    role: account.role,
                    disabled: account.disabled,
                    mfa_enrolled: account.mfa_enrolled,
                    last_sign_in: account
                        .last_login_at
                        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|| "never".to_owned()),
                })
                .collect(),
            roles: Role::ALL,
        },
    ))
}

#[derive(Template)]
#[template(path = "token_issued.html")]
struct TokenPage<'a> {
    chrome: Option<&'a Chrome>,
    title: &'a str,
    what: &'a str,
    token: &'a str,
    expires: String,
}

async fn invite(
    State(state): State<AppState>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(ADMIN);
    let body = JsonBody::from_value(&json!({
        "email": fields.get("email").unwrap_or_default(),
        "role": fields.get("role").unwrap_or_default(),
    }));
    match invitations::invite(&state, caller, body).await {
        Ok(invitation) => Ok(page::render(
            StatusCode::CREATED,
            &TokenPage {
                chrome: Some(&chrome),
                title: "Invitation made",
                what: "Give this invitation code to the new colleague in person or by phone, \
                       never by email. They enter it at /app/welcome with a password of \
                       their own. It works once.",
                token: &invitation.token,
                expires: invitation
                    .expires_at
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string(),
            },
        )),
        Err(error) => refused(&chrome, error, "The invitation was not made"),
    }
}

/// What a refused change says, on a page with a link back to the accounts.
fn refused(chrome: &Chrome, error: ApiError, title: &str) -> Result<Response, PageError> {
    let message = match &error {
        ApiError::InvalidField { rule, .. } | ApiError::Invalid(rule) | ApiError::Refused(rule) => {
            *rule
        }
        ApiError::Conflict => "An account or invitation for this email exists already.",
        ApiError::ReauthenticationRequired => {
            "This change needs a second factor given in this session: sign out, sign in \
             again and repeat it."
        }
        _ => return Err(error.into()),
    };
    Ok(page::notice(chrome, error.status(), title, message, ADMIN))
}

async fn change(
    SafePath(id): SafePath<UserId>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(ADMIN);
    let mut changes = serde_json::Map::new();
    if let Some(role) = fields.get("role") {
        changes.insert("role".to_owned(), Value::String(role.to_owned()));
    }
    if let Some(state) = fields.get("state") {
        changes.insert("disabled".to_owned(), Value::Bool(state == "disabled"));
    }
    let body = JsonBody::from_value(&Value::Object(changes));
    match administration::change(caller, id, body).await {
        Ok(_) => Ok(page::see_other(ADMIN)),
        Err(error) => refused(&chrome, error, "The account was not changed"),
    }
}

async fn reset(
    State(state): State<AppState>,
    SafePath(id): SafePath<UserId>,
    Posted { viewer, .. }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(ADMIN);
    match administration::issue_reset(&state, caller, id).await {
        Ok(issued) => Ok(page::render(
            StatusCode::CREATED,
            &TokenPage {
                chrome: Some(&chrome),
                title: "Password reset issued",
                what: "The account's sessions have ended. Give this reset code to its owner \
                       out of band; they set a new password with it and their second \
                       factor. It works once.",
                token: &issued.token,
                expires: issued.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            },
        )),
        Err(error) => refused(&chrome, error, "No reset was issued"),
    }
}

async fn end_sessions(
    SafePath(id): SafePath<UserId>,
    Posted { viewer, .. }: Posted,
) -> Result<Response, PageError> {
    administration::end_sessions(viewer.caller, id).await?;
    Ok(page::see_other(ADMIN))
}
