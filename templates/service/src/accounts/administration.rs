//! What a clinic's admins do to its accounts over the API: list them, change a role,
//! disable or enable one, issue a password reset, end an account's sessions (HIPAA
//! 164.308(a)(3)(ii)(C) termination procedures, 164.308(a)(4) access authorization and
//! modification). Each change takes effect at once, because every request reads the
//! account's role and state afresh, and the changed account's sessions end with it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::store::account_token::{self, Purpose};
use crate::auth::store::session as sessions;
use crate::auth::store::user::{self, AccountSummary};
use crate::auth::tokens::AccountToken;
use crate::auth::{Action, Caller, Resource, Role};
use crate::error::ApiError;
use crate::ids::{UserId, to_uuid};
use crate::request::JsonBody;
use crate::state::AppState;

/// How long a password-reset token may wait to be used.
pub const RESET_LIFETIME: Duration = Duration::hours(1);

/// What demoting or disabling the clinic's last enabled admin answers: a clinic without
/// one could never add or restore an account again.
pub const LAST_ADMIN: &str = "the clinic's last admin can be neither demoted nor disabled";

/// An account as `GET /users` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = Uuid)]
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// Whether a TOTP secret is bound.
    pub mfa_enrolled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AccountSummary> for AccountView {
    fn from(account: AccountSummary) -> Self {
        Self {
            id: account.id,
            email: account.email,
            role: account.role,
            disabled: account.disabled,
            mfa_enrolled: account.mfa_enrolled,
            last_login_at: account.last_sign_in_at,
            created_at: account.created_at,
        }
    }
}

/// `GET /users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub users: Vec<AccountView>,
}

/// `PATCH /users/{id}`: a new role, a new state, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// A reset token, shown once to the admin to hand over out of band.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedReset {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The clinic's accounts.
pub async fn list(caller: Caller) -> Result<AccountList, ApiError> {
    let mut caller = caller
        .require(Action::Read, Resource::Accounts, None)
        .await?;
    let accounts = user::list(&mut caller.tx).await?;
    let ids = accounts.iter().map(|account| to_uuid(account.id));
    caller
        .record(&Event::each(AuditAction::Read, "users", ids))
        .await?;
    caller.commit().await?;
    Ok(AccountList {
        users: accounts.into_iter().map(AccountView::from).collect(),
    })
}

/// Changes the role or state of the account `id`. Role changes and disabling end every
/// session of the account in the same transaction.
pub async fn change(caller: Caller, id: UserId, body: JsonBody) -> Result<AccountView, ApiError> {
    let on = Some(id.into());
    let (mut caller, changes): (_, AccountChanges) = caller
        .require(Action::Update, Resource::Accounts, on)
        .await?
        .parse(&body, AuditAction::Update, Resource::Accounts, on)
        .await?;
    if changes.role.is_none() && changes.disabled.is_none() {
        let error = ApiError::Invalid("expected a role, disabled, or both");
        return Err(caller
            .fail(AuditAction::Update, Resource::Accounts, on, error)
            .await);
    }
    // A role decides what an account may do: changing one takes an admin who gave their
    // second factor in this session (NIST SP 800-63B AAL2).
    if changes.role.is_some() && caller.mfa_at.is_none() {
        return Err(caller
            .fail(
                AuditAction::ChangeRole,
                Resource::Accounts,
                on,
                ApiError::ReauthenticationRequired,
            )
            .await);
    }
    // Changes run one at a time per clinic, so two admins demoting each other leave one.
    let admins = user::lock_enabled_admins(&mut caller.tx).await?;
    if !admins.contains(&caller.user.id) {
        // Demoted or disabled while this request waited.
        return Err(caller
            .fail(
                AuditAction::Update,
                Resource::Accounts,
                on,
                ApiError::Forbidden,
            )
            .await);
    }
    let Some(target) = user::get(&mut caller.tx, id).await? else {
        return Err(caller
            .fail(
                AuditAction::Update,
                Resource::Accounts,
                on,
                ApiError::NotFound,
            )
            .await);
    };
    let enabled_admin = target.role == Role::Admin && !target.disabled;
    let demoting = changes.role.is_some_and(|role| role != Role::Admin);
    let disabling = changes.disabled == Some(true);
    let others = admins.iter().filter(|admin| **admin != id).count();
    if enabled_admin && (demoting || disabling) && others == 0 {
        let error = ApiError::Refused(LAST_ADMIN);
        return Err(caller
            .fail(AuditAction::Update, Resource::Accounts, on, error)
            .await);
    }

    let row = Some(to_uuid(id));
    let mut events = Vec::new();
    if let Some(role) = changes.role.filter(|role| *role != target.role) {
        user::set_role(&mut caller.tx, id, role).await?;
        sessions::delete_all_of_user(&mut caller.tx, id, None).await?;
        events.push(Event::new(AuditAction::ChangeRole, Outcome::Success).on("users", row));
    }
    match changes.disabled {
        Some(true) if user::disable(&mut caller.tx, id).await? => {
            events.push(Event::new(AuditAction::DisableUser, Outcome::Success).on("users", row));
        }
        Some(false) if user::enable(&mut caller.tx, id).await? => {
            events.push(Event::new(AuditAction::EnableUser, Outcome::Success).on("users", row));
        }
        _ => {}
    }
    if events.is_empty() {
        events.push(Event::new(AuditAction::Update, Outcome::Success).on("users", row));
    }
    let account = user::summary(&mut caller.tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    caller.record(&events).await?;
    caller.commit().await?;
    tracing::info!(user_id = %id, changes = events.len(), "account changed");
    Ok(account.into())
}

/// Issues a single-use reset token for the account `id` and ends its sessions: whoever
/// held them, the account signs in anew once the holder of the token has set a password.
pub async fn issue_reset(
    state: &AppState,
    caller: Caller,
    id: UserId,
) -> Result<IssuedReset, ApiError> {
    let on = Some(id.into());
    let mut caller = caller
        .require(Action::Update, Resource::Accounts, on)
        .await?;
    if user::get(&mut caller.tx, id).await?.is_none() {
        return Err(caller
            .fail(
                AuditAction::ResetPassword,
                Resource::Accounts,
                on,
                ApiError::NotFound,
            )
            .await);
    }
    let now = state.clock.now();
    let expires_at = now + RESET_LIFETIME;
    let token = AccountToken::generate().map_err(|_| ApiError::Internal)?;
    account_token::void_resets(&mut caller.tx, id, now).await?;
    let purpose = Purpose::PasswordReset { user: id };
    account_token::create(
        &mut caller.tx,
        &token.hashed(),
        &purpose,
        Some(caller.user.id),
        now,
        expires_at,
    )
    .await?;
    sessions::delete_all_of_user(&mut caller.tx, id, None).await?;
    let issued =
        Event::new(AuditAction::ResetPassword, Outcome::Success).on("users", Some(to_uuid(id)));
    caller.record(&[issued]).await?;
    caller.commit().await?;
    tracing::info!(user_id = %id, "password reset issued");
    Ok(IssuedReset {
        token: token.reveal(),
        expires_at,
    })
}

/// Ends every session of the account `id`.
pub async fn end_sessions(caller: Caller, id: UserId) -> Result<(), ApiError> {
    let on = Some(id.into());
    let mut caller = caller
        .require(Action::Delete, Resource::Accounts, on)
        .await?;
    if user::get(&mut caller.tx, id).await?.is_none() {
        return Err(caller
            .fail(
                AuditAction::RevokeSession,
                Resource::Accounts,
                on,
                ApiError::NotFound,
            )
            .await);
    }
    let ended = sessions::delete_all_of_user(&mut caller.tx, id, None).await?;
    let revoked =
        Event::new(AuditAction::RevokeSession, Outcome::Success).on("users", Some(to_uuid(id)));
    caller.record(&[revoked]).await?;
    caller.commit().await?;
    tracing::info!(user_id = %id, ended, "sessions ended by an admin");
    Ok(())
}
