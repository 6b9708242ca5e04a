//! Login, the TOTP step and logout (SPEC 4.1, 4.2.1).
//!
//! Every failure before a session exists answers the same `401 unauthorized`, whether the
//! account is unknown, disabled, or the password wrong, and takes the same time: an
//! unknown account's password is checked against a decoy hash. No database connection is
//! held while a password is hashed.
//!
//! Each step is audited in its own transaction (HIPAA 164.312(b)): login, a failed login
//! of an existing account (in its clinic), MFA, a wrong TOTP code, logout. A failed login
//! for an address with no account is not (see [`crate::audit`]).

use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::password::{HashError, Password};
use crate::auth::session::{self, MFA_MAX_FAILURES, SessionToken, Transport};
use crate::auth::{throttle, totp};
use crate::db;
use crate::error::ApiError;
use crate::models::session as sessions;
use crate::models::user::{self, Account};
use crate::state::AppState;

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(format = Email)]
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

/// `POST /auth/mfa`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    pub code: String,
}

/// A new session: complete, or waiting for its TOTP code.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub mfa_pending: bool,
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => ApiError::Busy,
            HashError::Failed => ApiError::Internal,
        }
    }
}

/// Checks email and password, and starts a session: a pending one when the role needs a
/// TOTP code first. `meta.source` is the client's address, for throttling.
pub async fn login(
    state: &AppState,
    request: LoginRequest,
    meta: RequestMeta,
) -> Result<NewSession, ApiError> {
    let email = user::normalize_email(&request.email);
    let throttle_key = throttle::key(&email, meta.source);
    let now = state.clock.now();

    // Read what is needed, then let the connection go before hashing.
    let mut tx = state.pool.begin().await?;
    throttle::check(&mut tx, &throttle_key, now).await?;
    let account = user::find_for_login(&mut tx, &email)
        .await?
        .filter(|account| !account.disabled);
    tx.commit().await?;

    let stored = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let verification = state.hasher.verify(request.password, stored).await?;

    let mut tx = state.pool.begin().await?;
    let account = match account {
        Some(account) if verification.matches && may_sign_in(&account) => account,
        other => {
            throttle::record_failure(&mut tx, &throttle_key, now).await?;
            if let Some(account) = other {
                db::set_scope(&mut tx, account.clinic_id, None).await?;
                let failed = Event::new(AuditAction::LoginFailed, Outcome::Failure);
                audit::record(&mut tx, &context(&account, meta, now), &[failed]).await?;
            }
            tx.commit().await?;
            tracing::info!("login refused");
            return Err(ApiError::Unauthorized);
        }
    };
    throttle::clear(&mut tx, &throttle_key).await?;
    db::set_scope(&mut tx, account.clinic_id, Some(account.id)).await?;
    if let Some(rehashed) = &verification.rehashed {
        user::set_password_hash(&mut tx, account.id, rehashed).await?;
    }
    let mfa_pending = account.role.requires_mfa();
    let token = SessionToken::generate()?;
    sessions::create(&mut tx, &token.hash(), account.id, mfa_pending, now).await?;
    let accepted = Event::new(AuditAction::Login, Outcome::Success);
    audit::record(&mut tx, &context(&account, meta, now), &[accepted]).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, mfa_pending, "login accepted");
    Ok(NewSession { token, mfa_pending })
}

/// The audit context of a login for `account`, before any session exists.
fn context(
    account: &Account,
    meta: RequestMeta,
    now: chrono::DateTime<chrono::Utc>,
) -> AuditContext {
    AuditContext {
        clinic: account.clinic_id,
        actor: Some(account.id),
        role: Some(account.role),
        meta,
        at: now,
    }
}

/// A role that needs TOTP cannot sign in without an enrolled secret: the password alone
/// never opens such an account.
fn may_sign_in(account: &Account) -> bool {
    if account.role.requires_mfa() && account.totp_secret.is_none() {
        tracing::warn!(user_id = %account.id, "login refused: the role requires TOTP and none is enrolled");
        return false;
    }
    true
}

/// Completes a pending session with its TOTP code. The pending session ends either way
/// it succeeds, and a new token replaces it (SPEC 4.2.1: a new token on MFA).
pub async fn complete_mfa(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
    request: MfaRequest,
) -> Result<(NewSession, Transport), ApiError> {
    let mut pending = session::authenticate(state, headers, meta).await?;
    if !pending.session.mfa_pending {
        return Err(ApiError::Unauthorized);
    }
    let tx = &mut pending.tx;
    let account = user::get(tx, pending.user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let accepted = account
        .totp_secret
        .as_deref()
        .and_then(|secret| totp::accept(secret, &request.code, now, account.totp_last_step));
    let Some(step) = accepted else {
        if sessions::count_mfa_failure(tx, pending.session.id).await? >= MFA_MAX_FAILURES {
            sessions::delete(tx, pending.session.id).await?;
        }
        let failed = Event::new(AuditAction::MfaFailed, Outcome::Failure)
            .on("sessions", Some(pending.session.id));
        audit::record(tx, &pending.audit, &[failed]).await?;
        pending.tx.commit().await?;
        tracing::info!(user_id = %account.id, "mfa refused");
        return Err(ApiError::Unauthorized);
    };
    user::record_totp_step(tx, account.id, step).await?;
    sessions::delete(tx, pending.session.id).await?;
    let token = SessionToken::generate()?;
    sessions::create(tx, &token.hash(), account.id, false, now).await?;
    let accepted =
        Event::new(AuditAction::Mfa, Outcome::Success).on("sessions", Some(pending.session.id));
    audit::record(tx, &pending.audit, &[accepted]).await?;
    pending.tx.commit().await?;
    tracing::info!(user_id = %account.id, "mfa accepted");
    Ok((
        NewSession {
            token,
            mfa_pending: false,
        },
        pending.transport,
    ))
}

/// Ends the session the request presents, complete or pending.
pub async fn logout(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
) -> Result<Transport, ApiError> {
    let mut authenticated = session::authenticate(state, headers, meta).await?;
    sessions::delete(&mut authenticated.tx, authenticated.session.id).await?;
    let ended = Event::new(AuditAction::Logout, Outcome::Success)
        .on("sessions", Some(authenticated.session.id));
    audit::record(&mut authenticated.tx, &authenticated.audit, &[ended]).await?;
    authenticated.tx.commit().await?;
    tracing::info!(user_id = %authenticated.user.id, "logout");
    Ok(authenticated.transport)
}
