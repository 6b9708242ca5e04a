//! An account's own credentials: a password change, a password reset completed with the
//! token an admin handed over, and new recovery codes (NIST SP 800-63B §5.1.1.2, §6.1.2.3;
//! OWASP ASVS V6.2, V6.4). Every change ends the sessions that predate it, and is on the
//! record in the transaction that makes it.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enrollment::{self, TotpEnrollment};
use super::invitations::redeemable;
use super::password_refused;
use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::login::{self, NewSession};
use crate::auth::password::{self, Password, PasswordContext};
use crate::auth::store::account_token::{self, Purpose};
use crate::auth::store::session as sessions;
use crate::auth::store::user;
use crate::auth::{Action, Caller, Resource, throttle};
use crate::db;
use crate::error::ApiError;
use crate::ids::to_uuid;
use crate::models::clinic;
use crate::request::JsonBody;
use crate::state::AppState;

/// How recent a session's second factor must be for new recovery codes.
pub const RECENT_MFA: Duration = Duration::minutes(5);

/// `POST /me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current_password: Password,
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
}

/// `POST /password-reset/complete`: the token, the new password, and the account's second
/// factor (a TOTP code or a recovery code), which a reset never bypasses.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetCompletion {
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
    /// Required when the account has a second factor bound.
    pub code: Option<String>,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// How a completed reset ends: the account signs in with its new password, or, when it
/// never bound a second factor, it enrolls one now in a session that may do nothing else.
pub enum ResetOutcome {
    Done,
    Enroll(NewSession, TotpEnrollment),
}

/// Changes the caller's password. The current one is checked (counted like a sign-in
/// attempt), and every other session of the account ends.
pub async fn change_password(
    state: &AppState,
    caller: Caller,
    body: JsonBody,
) -> Result<(), ApiError> {
    let caller = caller
        .require(Action::Update, Resource::OwnAccount, None)
        .await?;
    let own = Some(caller.user.id.into());
    let (mut caller, change): (_, PasswordChange) = caller
        .parse(
            &body,
            AuditAction::ChangePassword,
            Resource::OwnAccount,
            own,
        )
        .await?;
    let account = user::get(&mut caller.tx, caller.user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let clinic_name = clinic::get(&mut caller.tx, account.clinic_id)
        .await?
        .map(|clinic| clinic.name);
    let context = PasswordContext {
        email: &account.email,
        clinic_name: clinic_name.as_deref(),
    };
    if let Err(rejected) = password::check_new(&change.new_password, &context) {
        let error = password_refused("new_password")(rejected);
        return Err(caller
            .fail(
                AuditAction::ChangePassword,
                Resource::OwnAccount,
                own,
                error,
            )
            .await);
    }
    let now = state.clock.now();
    let source = caller.audit.meta.map(|meta| meta.source);
    let mut pair = None;
    if let Some(meta) = caller.audit.meta {
        match login::count_attempt(&mut caller.tx, &account, meta, now).await? {
            Ok(key) => pair = Some(key),
            Err(refusal) => {
                return Err(caller
                    .fail(
                        AuditAction::ChangePassword,
                        Resource::OwnAccount,
                        own,
                        refusal,
                    )
                    .await);
            }
        }
    }
    // No connection is held while the passwords are hashed.
    let (user_id, session_id, audit_context) =
        (caller.user.id, caller.session_id, caller.audit.clone());
    caller.commit().await?;
    let verified = state
        .hasher
        .verify(change.current_password, Some(account.password_hash.clone()))
        .await?;
    let mut tx = db::begin_scoped(&state.pool, account.clinic_id, Some(user_id)).await?;
    if !verified.matches {
        let failed = Event::new(AuditAction::ChangePassword, Outcome::Failure)
            .on("users", Some(to_uuid(user_id)));
        audit::record(&mut tx, &audit_context, &[failed]).await?;
        tx.commit().await?;
        return Err(ApiError::invalid_field(
            "current_password",
            "is not the account's password",
        ));
    }
    let new_hash = state.hasher.hash(change.new_password).await?;
    user::set_password_hash(&mut tx, user_id, &new_hash).await?;
    // The password was proven in a complete session: the attempt counted above is lifted.
    if let (Some(pair), Some(source)) = (pair, source) {
        throttle::clear(&mut tx, &pair).await?;
        throttle::clear_account(&mut tx, user_id, source).await?;
    }
    let ended = sessions::delete_all_of_user(&mut tx, user_id, Some(session_id)).await?;
    let changed = Event::new(AuditAction::ChangePassword, Outcome::Success)
        .on("users", Some(to_uuid(user_id)));
    audit::record(&mut tx, &audit_context, &[changed]).await?;
    tx.commit().await?;
    tracing::info!(%user_id, ended, "password changed, other sessions ended");
    Ok(())
}

/// Completes a password reset: the token is spent only when the second factor holds, and
/// every session of the account ends.
pub async fn complete_reset(
    state: &AppState,
    meta: RequestMeta,
    request: ResetCompletion,
) -> Result<ResetOutcome, ApiError> {
    // The rules first, without holding a connection while the password is hashed.
    let (mut tx, _, stored) = redeemable(state, &request.token, false).await?;
    let Purpose::PasswordReset { user: user_id } = stored.purpose else {
        return Err(ApiError::Unauthorized);
    };
    let account = user::get(&mut tx, user_id)
        .await?
        .filter(|account| !account.disabled)
        .ok_or(ApiError::Unauthorized)?;
    let clinic_name = clinic::get(&mut tx, stored.clinic_id)
        .await?
        .map(|clinic| clinic.name);
    tx.rollback().await?;
    let context = PasswordContext {
        email: &account.email,
        clinic_name: clinic_name.as_deref(),
    };
    password::check_new(&request.password, &context).map_err(password_refused("password"))?;
    let new_hash = state.hasher.hash(request.password).await?;

    let (mut tx, token, stored) = redeemable(state, &request.token, false).await?;
    user::lock(&mut tx, user_id).await?;
    let account = user::get(&mut tx, user_id)
        .await?
        .filter(|account| !account.disabled)
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let context = AuditContext {
        clinic: stored.clinic_id,
        actor: Some(user_id),
        role: Some(account.role.as_str()),
        meta: Some(meta),
        at: now,
    };
    let on_account = Some(to_uuid(user_id));
    if let Err(refusal) = login::count_attempt(&mut tx, &account, meta, now).await? {
        let throttled =
            Event::new(AuditAction::CompletePasswordReset, Outcome::Denied).on("users", on_account);
        audit::record(&mut tx, &context, &[throttled]).await?;
        tx.commit().await?;
        return Err(refusal);
    }
    let enrolled = account.totp.is_some();
    if enrolled {
        let keys = state
            .keyring
            .for_clinic(&mut tx, to_uuid(stored.clinic_id))
            .await?;
        let code = request.code.as_deref().unwrap_or_default();
        let factor = login::take_second_factor(&mut tx, &keys, &account, code, now).await?;
        if factor == Some(login::SecondFactor::RecoveryCode) {
            // HIPAA 164.312(b): a recovery code spent is on the record.
            let spent =
                Event::new(AuditAction::UseRecoveryCode, Outcome::Success).on("users", on_account);
            audit::record(&mut tx, &context, &[spent]).await?;
        }
        if factor.is_none() {
            let failed = Event::new(AuditAction::CompletePasswordReset, Outcome::Failure)
                .on("users", on_account);
            audit::record(&mut tx, &context, &[failed]).await?;
            tx.commit().await?;
            tracing::info!(%user_id, "password reset refused: second factor");
            return Err(ApiError::Unauthorized);
        }
    }
    if !account_token::mark_used(&mut tx, token.selector(), now).await? {
        return Err(ApiError::Unauthorized);
    }
    user::set_password_hash(&mut tx, user_id, &new_hash).await?;
    sessions::delete_all_of_user(&mut tx, user_id, None).await?;
    let outcome = if enrolled {
        ResetOutcome::Done
    } else {
        let keys = state
            .keyring
            .for_clinic(&mut tx, to_uuid(stored.clinic_id))
            .await?;
        let (session, enrollment) =
            enrollment::start(&mut tx, &keys, user_id, &account.email, meta, now).await?;
        ResetOutcome::Enroll(session, enrollment)
    };
    let completed =
        Event::new(AuditAction::CompletePasswordReset, Outcome::Success).on("users", on_account);
    audit::record(&mut tx, &context, &[completed]).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "password reset completed, sessions ended");
    Ok(outcome)
}

/// New recovery codes for the caller, whose second factor must be recent; the old codes
/// stop working.
pub async fn renew_recovery_codes(
    state: &AppState,
    caller: Caller,
) -> Result<RecoveryCodes, ApiError> {
    let now = state.clock.now();
    let mut caller = caller
        .require(Action::Update, Resource::OwnAccount, None)
        .await?
        .require_recent_mfa(RECENT_MFA, now)
        .await?;
    let codes = enrollment::new_recovery_codes(&mut caller.tx, caller.user.id, now).await?;
    let renewed = Event::new(AuditAction::RenewRecoveryCodes, Outcome::Success)
        .on("users", Some(to_uuid(caller.user.id)));
    caller.record(&[renewed]).await?;
    caller.commit().await?;
    Ok(RecoveryCodes {
        recovery_codes: codes.iter().map(|code| code.reveal().to_owned()).collect(),
    })
}
