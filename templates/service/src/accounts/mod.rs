//! Accounts. There are no default accounts.
//!
//! - this module: the commands run on the server, `create-user` (the first admin of a
//!   clinic), `disable-user` and `unlock-user` (and `seed`, which creates its development
//!   accounts the same way), each audited;
//! - [`invitations`]: an admin invites an address into a role; its holder accepts;
//! - [`enrollment`]: the TOTP secret a new account binds, and its recovery codes;
//! - [`administration`]: roles, disabling, resets and sessions, by the clinic's admins;
//! - [`credentials`]: a user's own password and recovery codes, and completing a reset.

pub mod administration;
pub mod credentials;
pub mod enrollment;
pub mod invitations;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome};
use crate::auth::password::{
    self, HashError, Password, PasswordContext, PasswordHasher, PasswordRejected,
};
use crate::auth::store::user;
use crate::auth::{Role, throttle, totp};
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::crypto::keyring::KeyError;
use crate::db;
use crate::error::ApiError;
use crate::ids::{ClinicId, UserId, from_uuid, to_uuid};
use crate::models::clinic;

/// Where the new account belongs.
#[derive(Debug, Clone)]
pub enum ClinicChoice {
    Existing(ClinicId),
    /// A new clinic with this name (in a `tenancy = single` project, only the first).
    New(String),
}

/// What `create-user` asks for.
#[derive(Debug)]
pub struct NewUser {
    pub email: String,
    pub role: Role,
    pub clinic: ClinicChoice,
    pub password: Password,
}

/// The account made, with its TOTP enrollment when the role needs one. The secret is
/// shown once, to be entered in an authenticator app.
#[derive(Serialize)]
pub struct CreatedUser {
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    pub email: String,
    pub role: Role,
    pub totp_secret: Option<String>,
    pub totp_uri: Option<String>,
}

/// Why an account could not be created or disabled.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Password(#[from] PasswordRejected),
    #[error("not an email address")]
    InvalidEmail,
    #[error("an account with this email address exists already")]
    EmailTaken,
    #[error("no clinic with this id")]
    NoSuchClinic,
    #[error(
        "this database holds one clinic (tenancy = single) and has it already: pass --clinic ID"
    )]
    OneClinicOnly,
    #[error("no account with this email address")]
    NoSuchAccount,
    #[error("{0}")]
    Hash(#[from] HashError),
    #[error("no operating system randomness")]
    Random,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the clinic's keys: {0}")]
    Keys(#[from] KeyError),
}

/// Creates an account, enrolling TOTP when its role needs it. The secret is sealed with
/// the clinic's data key before it is stored, and the account's creation (like the
/// clinic's, when it is new) is audited in the same transaction (HIPAA 164.308(a)(3)
/// workforce clearance, 164.312(b)).
pub async fn create(
    pool: &PgPool,
    hasher: &PasswordHasher,
    keyring: &Keyring,
    clock: &dyn Clock,
    new: NewUser,
) -> Result<CreatedUser, AccountError> {
    let email = user::normalize_email(&new.email);
    if !looks_like_email(&email) {
        return Err(AccountError::InvalidEmail);
    }
    let clinic_name = match &new.clinic {
        ClinicChoice::New(name) => name.clone(),
        ClinicChoice::Existing(id) => {
            let mut tx = db::begin_scoped(pool, *id, None).await?;
            let clinic = clinic::get(&mut tx, *id)
                .await?
                .ok_or(AccountError::NoSuchClinic)?;
            tx.commit().await?;
            clinic.name
        }
    };
    password::check_new(
        &new.password,
        &PasswordContext {
            email: &email,
            clinic_name: Some(&clinic_name),
        },
    )?;
    let password_hash = hasher.hash(new.password).await?;
    let totp_secret = if new.role.requires_mfa() {
        Some(totp::new_secret().map_err(|_| AccountError::Random)?)
    } else {
        None
    };

    let now = clock.now();
    let mut tx = pool.begin().await?;
    let clinic_id = match new.clinic {
        ClinicChoice::Existing(id) => {
            db::set_scope(&mut tx, id, None).await?;
            id
        }
        ClinicChoice::New(name) => clinic::create(&mut tx, &name).await.map_err(|error| {
            if unique_violation(&error) {
                AccountError::OneClinicOnly
            } else {
                AccountError::Database(error)
            }
        })?,
    };
    let user_id: UserId = from_uuid(Uuid::new_v4());
    let keys = keyring.for_clinic(&mut tx, to_uuid(clinic_id)).await?;
    let totp_secret_sealed = totp_secret
        .as_deref()
        .map(|secret| keys.seal(user::TOTP_SECRET, to_uuid(user_id), secret))
        .transpose()
        .map_err(|_| AccountError::Random)?;
    user::create(
        &mut tx,
        user::NewAccount {
            id: user_id,
            email: &email,
            role: new.role,
            password_hash: &password_hash,
            totp_secret_sealed: totp_secret_sealed.as_deref(),
        },
    )
    .await
    .map_err(|error| {
        if unique_violation(&error) {
            AccountError::EmailTaken
        } else {
            AccountError::Database(error)
        }
    })?;
    let created =
        Event::new(AuditAction::CreateUser, Outcome::Success).on("users", Some(to_uuid(user_id)));
    audit::record(&mut tx, &AuditContext::command(clinic_id, now), &[created]).await?;
    tx.commit().await?;
    tracing::info!(%user_id, %clinic_id, role = %new.role, "account created");

    Ok(CreatedUser {
        user_id,
        clinic_id,
        totp_uri: totp_secret
            .as_deref()
            .map(|secret| totp::provisioning_uri(secret, &email)),
        totp_secret: totp_secret.as_deref().map(totp::secret_base32),
        email,
        role: new.role,
    })
}

/// Disables the account with `email` and ends all its sessions at once, on the record.
pub async fn disable(
    pool: &PgPool,
    clock: &dyn Clock,
    email: &str,
) -> Result<UserId, AccountError> {
    let (mut tx, account) = find(pool, email).await?;
    user::disable(&mut tx, account.id).await?;
    record_command(&mut tx, &account, AuditAction::DisableUser, clock).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, "account disabled, sessions ended");
    Ok(account.id)
}

/// Lets the owner of an account back in after the sign-in throttle suspended it
/// (NIST SP 800-63B §5.2.2): lifts the account-wide lock and the count, on the record.
pub async fn unlock(pool: &PgPool, clock: &dyn Clock, email: &str) -> Result<UserId, AccountError> {
    let (mut tx, account) = find(pool, email).await?;
    throttle::unlock_account(&mut tx, account.id).await?;
    record_command(&mut tx, &account, AuditAction::UnlockUser, clock).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, "account unlocked");
    Ok(account.id)
}

/// The account with `email`, and a transaction scoped to its clinic.
async fn find(pool: &PgPool, email: &str) -> Result<(db::Tx, user::Account), AccountError> {
    let mut tx = pool.begin().await?;
    let account = user::find_for_login(&mut tx, &user::normalize_email(email))
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    db::set_scope(&mut tx, account.clinic_id, None).await?;
    Ok((tx, account))
}

async fn record_command(
    tx: &mut PgConnection,
    account: &user::Account,
    action: AuditAction,
    clock: &dyn Clock,
) -> Result<(), sqlx::Error> {
    let event = Event::new(action, Outcome::Success).on("users", Some(to_uuid(account.id)));
    audit::record(
        tx,
        &AuditContext::command(account.clinic_id, clock.now()),
        &[event],
    )
    .await
}

/// The answer to a password that breaks a rule, naming the field of the request it came in.
pub(crate) fn password_refused(field: &'static str) -> impl Fn(PasswordRejected) -> ApiError {
    move |rejected| ApiError::invalid_field(field, rejected.rule())
}

pub(crate) fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(crate) fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
