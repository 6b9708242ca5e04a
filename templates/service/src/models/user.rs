//! User accounts. No account exists until `create-user` (or `seed`, in development) makes
//! one: there are no default accounts (NIST SP 800-63B).

use sqlx::PgConnection;

use super::ids::{ClinicId, UserId, from_uuid, to_uuid};
use crate::auth::roles::Role;
use crate::crypto::Field;
use crate::db::{self, Lookup};

/// The column a TOTP secret is sealed for: part of its associated data, with the clinic
/// and the account, so a sealed secret copied onto another account does not open.
pub const TOTP_SECRET: Field = Field::new("users", "totp_secret");

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
    pub disabled: bool,
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
                totp_last_step, disabled_at IS NOT NULL AS \"disabled!\"
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
                totp_last_step, disabled_at IS NOT NULL AS \"disabled!\"
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
