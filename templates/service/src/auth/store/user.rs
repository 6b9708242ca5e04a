//! User accounts. No account exists until `create-user` (or `seed`, in development) makes
//! one: there are no default accounts (NIST SP 800-63B).

use sqlx::PgConnection;

use crate::auth::roles::Role;
use crate::crypto::Field;
use crate::db::{self, Lookup};
use crate::ids::{ClinicId, UserId, from_uuid, to_uuid};

/// The column a TOTP secret is sealed for: part of its associated data, with the clinic
/// and the account, so a sealed secret copied onto another account does not open.
pub const TOTP_SECRET: Field = Field::new("users", "totp_secret");

/// The column an invited account's TOTP secret is sealed for until its first code
/// confirms it: a secret never confirmed cannot be moved into [`TOTP_SECRET`] unsealed
/// and resealed by anyone but the service.
pub const TOTP_PENDING_SECRET: Field = Field::new("users", "totp_pending_sealed");

/// An account's TOTP shared secret as stored.
pub enum StoredTotp {
    /// AES-256-GCM under the clinic's data key ([`TOTP_SECRET`]).
    Sealed(Vec<u8>),
    /// Plaintext, as accounts made before secrets were sealed hold it: moved into
    /// `totp_secret_sealed` at the account's next completed sign-in.
    Legacy(Vec<u8>),
}

/// An account with its credentials. No `Debug`: it holds the password hash and the TOTP
/// secret.
pub struct Account {
    pub id: UserId,
    pub clinic_id: ClinicId,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
    pub totp: Option<StoredTotp>,
    pub totp_last_step: Option<i64>,
    /// A TOTP secret awaiting its first code (an invited account's), sealed as
    /// [`TOTP_PENDING_SECRET`].
    pub totp_pending: Option<Vec<u8>>,
    pub disabled: bool,
}

/// An account as its clinic's admins see it in `GET /users`: no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub mfa_enrolled: bool,
    pub last_sign_in_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What `create` stores. The id is chosen by the caller, because the sealed TOTP secret is
/// bound to it.
pub struct NewAccount<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub totp_secret_sealed: Option<&'a [u8]>,
}

/// A `users` row as selected above; [`AccountRow::into_account`] is the one mapping to
/// the domain type.
struct AccountRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    email: String,
    role: String,
    password_hash: String,
    totp_secret: Option<Vec<u8>>,
    totp_secret_sealed: Option<Vec<u8>>,
    totp_last_step: Option<i64>,
    totp_pending_sealed: Option<Vec<u8>>,
    disabled: bool,
}

impl AccountRow {
    fn into_account(self) -> Option<Account> {
        Some(Account {
            id: from_uuid(self.id),
            clinic_id: from_uuid(self.clinic_id),
            email: self.email,
            role: self.role.parse().ok()?,
            password_hash: self.password_hash,
            totp: match (self.totp_secret_sealed, self.totp_secret) {
                (Some(sealed), _) => Some(StoredTotp::Sealed(sealed)),
                (None, Some(plain)) => Some(StoredTotp::Legacy(plain)),
                (None, None) => None,
            },
            totp_last_step: self.totp_last_step,
            totp_pending: self.totp_pending_sealed,
            disabled: self.disabled,
        })
    }
}

/// Lower-cased and trimmed: the form emails are stored and looked up in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The account for `email` in any clinic, before the clinic is known (login). The lookup
/// setting opens exactly that one row to the service role.
pub async fn find_for_login(
    tx: &mut PgConnection,
    email: &str,
) -> Result<Option<Account>, sqlx::Error> {
    db::set_lookup(tx, Lookup::LoginEmail, email).await?;
    let row = sqlx::query_as!(
        AccountRow,
        "SELECT id, clinic_id, email, role, password_hash, totp_secret, totp_secret_sealed,
                totp_last_step, totp_pending_sealed, disabled_at IS NOT NULL AS \"disabled!\"
         FROM users WHERE email = $1",
        email
    )
    .fetch_optional(&mut *tx)
    .await?;
    db::set_lookup(tx, Lookup::LoginEmail, "").await?;
    Ok(row.and_then(AccountRow::into_account))
}

/// The account `id` in the clinic `tx` is scoped to.
pub async fn get(tx: &mut PgConnection, id: UserId) -> Result<Option<Account>, sqlx::Error> {
    let row = sqlx::query_as!(
        AccountRow,
        "SELECT id, clinic_id, email, role, password_hash, totp_secret, totp_secret_sealed,
                totp_last_step, totp_pending_sealed, disabled_at IS NOT NULL AS \"disabled!\"
         FROM users WHERE id = $1",
        to_uuid(id)
    )
    .fetch_optional(tx)
    .await?;
    Ok(row.and_then(AccountRow::into_account))
}

/// Creates an account in the clinic `tx` is scoped to.
pub async fn create(tx: &mut PgConnection, account: NewAccount<'_>) -> Result<UserId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO users (id, email, role, password_hash, totp_secret_sealed)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        to_uuid(account.id),
        normalize_email(account.email),
        account.role.as_str(),
        account.password_hash,
        account.totp_secret_sealed
    )
    .fetch_one(tx)
    .await?;
    Ok(from_uuid(id))
}

/// Stores a new password hash (after a login re-hashed at new parameters).
pub async fn set_password_hash(
    tx: &mut PgConnection,
    id: UserId,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        to_uuid(id),
        hash
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Records the time step of the TOTP code just accepted, so it cannot be used again
/// (RFC 6238 §5.2). Only a step newer than the last one recorded is taken: returns
/// `false` when another submission of the same code got there first.
pub async fn record_totp_step(
    tx: &mut PgConnection,
    id: UserId,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE users SET totp_last_step = $2
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        to_uuid(id),
        step
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Stores the account's TOTP secret sealed, and clears a plaintext copy.
pub async fn seal_totp_secret(
    tx: &mut PgConnection,
    id: UserId,
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET totp_secret_sealed = $2, totp_secret = NULL WHERE id = $1",
        to_uuid(id),
        sealed
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Locks the account's row until `tx` ends: second-factor attempts on one account run one
/// at a time, whichever pending session they come from.
pub async fn lock(tx: &mut PgConnection, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT id FROM users WHERE id = $1 FOR UPDATE", to_uuid(id))
        .fetch_optional(tx)
        .await?;
    Ok(())
}

/// Disables the account and ends every one of its sessions in the same transaction
/// (NIST SP 800-63B). Returns whether the account was enabled.
pub async fn disable(tx: &mut PgConnection, id: UserId) -> Result<bool, sqlx::Error> {
    let disabled = sqlx::query!(
        "UPDATE users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL",
        to_uuid(id)
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", to_uuid(id))
        .execute(tx)
        .await?;
    Ok(disabled == 1)
}

/// The columns of an [`AccountSummary`].
struct SummaryRow {
    id: uuid::Uuid,
    email: String,
    role: String,
    disabled: bool,
    mfa_enrolled: bool,
    last_sign_in_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl SummaryRow {
    fn into_summary(self) -> Option<AccountSummary> {
        Some(AccountSummary {
            id: from_uuid(self.id),
            email: self.email,
            role: self.role.parse().ok()?,
            disabled: self.disabled,
            mfa_enrolled: self.mfa_enrolled,
            last_sign_in_at: self.last_sign_in_at,
            created_at: self.created_at,
        })
    }
}

/// The accounts of the clinic `tx` is scoped to, by email.
pub async fn list(tx: &mut PgConnection) -> Result<Vec<AccountSummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        "SELECT id, email, role, disabled_at IS NOT NULL AS \"disabled!\",
                (totp_secret_sealed IS NOT NULL OR totp_secret IS NOT NULL) AS \"mfa_enrolled!\",
                last_sign_in_at, created_at
         FROM users ORDER BY email"
    )
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(SummaryRow::into_summary)
        .collect())
}

/// The account `id` as its clinic's admins see it.
pub async fn summary(
    tx: &mut PgConnection,
    id: UserId,
) -> Result<Option<AccountSummary>, sqlx::Error> {
    let row = sqlx::query_as!(
        SummaryRow,
        "SELECT id, email, role, disabled_at IS NOT NULL AS \"disabled!\",
                (totp_secret_sealed IS NOT NULL OR totp_secret IS NOT NULL) AS \"mfa_enrolled!\",
                last_sign_in_at, created_at
         FROM users WHERE id = $1",
        to_uuid(id)
    )
    .fetch_optional(tx)
    .await?;
    Ok(row.and_then(SummaryRow::into_summary))
}

/// Locks the clinic's enabled admins' rows until `tx` ends and returns their ids: role
/// changes run one at a time, so two admins demoting each other leave one.
pub async fn lock_enabled_admins(tx: &mut PgConnection) -> Result<Vec<UserId>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL
         ORDER BY id FOR UPDATE"
    )
    .fetch_all(tx)
    .await?;
    Ok(ids.into_iter().map(from_uuid).collect())
}

/// Gives the account `role`.
pub async fn set_role(tx: &mut PgConnection, id: UserId, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET role = $2 WHERE id = $1",
        to_uuid(id),
        role.as_str()
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Enables a disabled account; whether it was disabled.
pub async fn enable(tx: &mut PgConnection, id: UserId) -> Result<bool, sqlx::Error> {
    let enabled = sqlx::query!(
        "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
        to_uuid(id)
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(enabled == 1)
}

/// Stores a TOTP secret awaiting confirmation, sealed as [`TOTP_PENDING_SECRET`].
pub async fn set_pending_totp(
    tx: &mut PgConnection,
    id: UserId,
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET totp_pending_sealed = $2 WHERE id = $1",
        to_uuid(id),
        sealed
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Makes the confirmed secret the account's second factor (sealed anew as
/// [`TOTP_SECRET`]), with the time step of the code that confirmed it.
pub async fn confirm_totp(
    tx: &mut PgConnection,
    id: UserId,
    sealed: &[u8],
    step: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET totp_secret_sealed = $2, totp_secret = NULL,
                          totp_pending_sealed = NULL, totp_last_step = $3
         WHERE id = $1",
        to_uuid(id),
        sealed,
        step
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Records a completed sign-in at `at`.
pub async fn record_sign_in(
    tx: &mut PgConnection,
    id: UserId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = $2 WHERE id = $1",
        to_uuid(id),
        at
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Whether the clinic `tx` is scoped to has an account with `email`. Row-level security
/// keeps other clinics' accounts out of it, so it reveals nothing beyond the clinic.
pub async fn exists_in_clinic(tx: &mut PgConnection, email: &str) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM users WHERE email = $1", email)
        .fetch_optional(tx)
        .await?;
    Ok(found.is_some())
}
