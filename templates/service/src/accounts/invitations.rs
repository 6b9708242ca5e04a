//! Invitations (HIPAA 164.308(a)(4)(ii)(B) access establishment; NIST SP 800-63B §6.1.2
//! binding at enrollment): an admin invites an email address into a role of their clinic
//! and hands the single-use token over out of band; its holder sets a password and
//! enrolls TOTP. The token is the only way in: no account exists until it is accepted.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enrollment;
use super::{looks_like_email, password_refused};
use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::login::NewSession;
use crate::auth::password::{self, Password, PasswordContext};
use crate::auth::store::account_token::{self, Purpose, StoredToken};
use crate::auth::store::user;
use crate::auth::tokens::AccountToken;
use crate::auth::{Action, Caller, Resource, Role};
use crate::db;
use crate::error::ApiError;
use crate::ids::{AccountTokenId, UserId, from_uuid, to_uuid};
use crate::models::clinic;
use crate::request::JsonBody;
use crate::state::AppState;

/// How long an invitation may wait to be accepted.
pub const INVITATION_LIFETIME: Duration = Duration::hours(72);

/// What an existing account in the admin's own clinic answers. Accounts of other clinics
/// are not looked at: the invitation is issued, and fails when accepted, so no clinic
/// learns which addresses another one has.
const ACCOUNT_EXISTS: &str = "an account with this email address exists in this clinic";

/// `POST /users/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[schema(format = Email)]
    pub email: String,
    pub role: Role,
}

/// An invitation, shown once to the admin who made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    #[schema(value_type = Uuid)]
    pub invitation_id: AccountTokenId,
    /// The single-use token, to hand over out of band.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

/// The account an accepted invitation made, and its TOTP secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub totp_secret: String,
    pub totp_uri: String,
    /// The enrolling session's token, for clients that asked for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Issues an invitation for the email and role in `body`, in the admin's clinic.
pub async fn invite(
    state: &AppState,
    caller: Caller,
    body: JsonBody,
) -> Result<Invitation, ApiError> {
    let (mut caller, request): (_, InviteRequest) = caller
        .require(Action::Create, Resource::Accounts, None)
        .await?
        .parse(&body, AuditAction::InviteUser, Resource::Accounts, None)
        .await?;
    let email = user::normalize_email(&request.email);
    if !looks_like_email(&email) {
        let error = ApiError::invalid_field("email", "is not an email address");
        return Err(caller
            .fail(AuditAction::InviteUser, Resource::Accounts, None, error)
            .await);
    }
    if user::exists_in_clinic(&mut caller.tx, &email).await? {
        let error = ApiError::Refused(ACCOUNT_EXISTS);
        return Err(caller
            .fail(AuditAction::InviteUser, Resource::Accounts, None, error)
            .await);
    }
    let now = state.clock.now();
    let expires_at = now + INVITATION_LIFETIME;
    let token = AccountToken::generate().map_err(|_| ApiError::Internal)?;
    // The newest invitation for an address is the only one that works.
    account_token::void_invitations(&mut caller.tx, &email, now).await?;
    let purpose = Purpose::Invitation {
        email,
        role: request.role,
    };
    account_token::create(
        &mut caller.tx,
        &token.hashed(),
        &purpose,
        Some(caller.user.id),
        now,
        expires_at,
    )
    .await?;
    let invited = Event::new(AuditAction::InviteUser, Outcome::Success)
        .on("account_tokens", Some(token.selector()));
    caller.record(&[invited]).await?;
    caller.commit().await?;
    tracing::info!(role = %request.role, "invitation issued");
    Ok(Invitation {
        invitation_id: from_uuid(token.selector()),
        token: token.reveal(),
        expires_at,
    })
}

/// The live token of `purpose` that `presented` names, with the transaction scoped to
/// its clinic. Unknown, forged, used and expired tokens are all the same 401.
pub(super) async fn redeemable(
    state: &AppState,
    presented: &str,
    want_invitation: bool,
) -> Result<(db::Tx, AccountToken, StoredToken), ApiError> {
    let token = AccountToken::parse(presented).ok_or(ApiError::Unauthorized)?;
    let mut tx = state.pool.begin().await?;
    let stored = account_token::find_presented(&mut tx, token.selector())
        .await?
        .filter(|stored| token.matches(&stored.verifier_hash))
        .filter(|stored| stored.is_live(state.clock.now()))
        .filter(|stored| matches!(stored.purpose, Purpose::Invitation { .. }) == want_invitation)
        .ok_or(ApiError::Unauthorized)?;
    db::set_scope(&mut tx, stored.clinic_id, None).await?;
    Ok((tx, token, stored))
}

/// Accepts an invitation: the account is made in the invitation's clinic and role, with
/// the password given, and a session that may only confirm its TOTP enrollment.
pub async fn accept(
    state: &AppState,
    meta: RequestMeta,
    request: AcceptRequest,
) -> Result<(NewSession, Accepted), ApiError> {
    // The rules first, without holding a connection while the password is hashed.
    let (mut tx, _, stored) = redeemable(state, &request.token, true).await?;
    let Purpose::Invitation { email, role } = stored.purpose.clone() else {
        return Err(ApiError::Unauthorized);
    };
    let clinic_name = clinic::get(&mut tx, stored.clinic_id)
        .await?
        .map(|clinic| clinic.name);
    tx.rollback().await?;
    let context = PasswordContext {
        email: &email,
        clinic_name: clinic_name.as_deref(),
    };
    password::check_new(&request.password, &context).map_err(password_refused("password"))?;
    let password_hash = state.hasher.hash(request.password).await?;

    let (mut tx, token, stored) = redeemable(state, &request.token, true).await?;
    let now = state.clock.now();
    // Two concurrent acceptances: the row lock lets one through.
    if !account_token::mark_used(&mut tx, token.selector(), now).await? {
        return Err(ApiError::Unauthorized);
    }
    let user_id: UserId = from_uuid(uuid::Uuid::new_v4());
    let created = user::create(
        &mut tx,
        user::NewAccount {
            id: user_id,
            email: &email,
            role,
            password_hash: &password_hash,
            totp_secret_sealed: None,
        },
    )
    .await;
    if let Err(error) = created {
        // The address has an account (in this clinic or another) since the invitation
        // was made: the same 401 as any spent token.
        if super::unique_violation(&error) {
            tracing::info!("invitation refused: the address has an account");
            return Err(ApiError::Unauthorized);
        }
        return Err(error.into());
    }
    let keys = state
        .keyring
        .for_clinic(&mut tx, to_uuid(stored.clinic_id))
        .await?;
    let (session, enrollment) =
        enrollment::start(&mut tx, &keys, user_id, &email, meta, now).await?;
    let context = AuditContext {
        clinic: stored.clinic_id,
        actor: Some(user_id),
        role: Some(role.as_str()),
        meta: Some(meta),
        at: now,
    };
    let accepted = Event::new(AuditAction::AcceptInvitation, Outcome::Success)
        .on("users", Some(to_uuid(user_id)));
    audit::record(&mut tx, &context, &[accepted]).await?;
    tx.commit().await?;
    tracing::info!(%user_id, %role, "invitation accepted");
    Ok((
        session,
        Accepted {
            user_id,
            email,
            role,
            totp_secret: enrollment.totp_secret,
            totp_uri: enrollment.totp_uri,
            token: None,
        },
    ))
}
