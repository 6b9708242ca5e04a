//! Account administration: `create-user` and `disable-user` (and `seed`, which creates its
//! development accounts the same way). There are no default accounts (SPEC 4.2.1).

use serde::Serialize;
use sqlx::PgPool;

use crate::auth::password::{self, HashError, Password, PasswordHasher, PasswordRejected};
use crate::auth::{Role, totp};
use crate::db;
use crate::models::ids::{ClinicId, UserId};
use crate::models::{clinic, user};

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
}

/// Creates an account, enrolling TOTP when its role needs it.
pub async fn create(
    pool: &PgPool,
    hasher: &PasswordHasher,
    new: NewUser,
) -> Result<CreatedUser, AccountError> {
    let email = user::normalize_email(&new.email);
    if !looks_like_email(&email) {
        return Err(AccountError::InvalidEmail);
    }
    password::check_new(&new.password)?;
    let password_hash = hasher.hash(new.password).await?;
    let totp_secret = if new.role.requires_mfa() {
        Some(totp::new_secret().map_err(|_| AccountError::Random)?)
    } else {
        None
    };

    let mut tx = pool.begin().await?;
    let clinic_id = match new.clinic {
        ClinicChoice::Existing(id) => {
            db::set_scope(&mut tx, id, None).await?;
            clinic::get(&mut tx, id)
                .await?
                .ok_or(AccountError::NoSuchClinic)?
                .id
        }
        ClinicChoice::New(name) => clinic::create(&mut tx, &name).await.map_err(|error| {
            if unique_violation(&error) {
                AccountError::OneClinicOnly
            } else {
                AccountError::Database(error)
            }
        })?,
    };
    let user_id = user::create(
        &mut tx,
        user::NewAccount {
            email: &email,
            role: new.role,
            password_hash: &password_hash,
            totp_secret: totp_secret.as_deref(),
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

/// Disables the account with `email` and ends all its sessions at once.
pub async fn disable(pool: &PgPool, email: &str) -> Result<UserId, AccountError> {
    let mut tx = pool.begin().await?;
    let account = user::find_for_login(&mut tx, &user::normalize_email(email))
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    db::set_scope(&mut tx, account.clinic_id, None).await?;
    user::disable(&mut tx, account.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, "account disabled, sessions ended");
    Ok(account.id)
}

fn looks_like_email(email: &str) -> bool {
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

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
