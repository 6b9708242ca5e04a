//! Invitation and password-reset tokens (`account_tokens`). Only the verifier's SHA-256
//! is stored ([`crate::auth::tokens`]); a token is used once and expires.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::tokens::TokenHash;
use crate::db::{self, Lookup};
use crate::ids::{ClinicId, UserId, from_uuid, to_uuid};

/// What a token is for, and whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// An account to be made for `email` with `role`.
    Invitation { email: String, role: Role },
    /// A new password for the existing account `user`.
    PasswordReset { user: UserId },
}

/// A stored token.
pub struct StoredToken {
    pub id: Uuid,
    pub clinic_id: ClinicId,
    pub purpose: Purpose,
    pub verifier_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

impl StoredToken {
    /// Whether it may still be redeemed at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.used && now < self.expires_at
    }
}

/// Stores a token for `purpose` in the clinic `tx` is scoped to, issued by `issuer`.
pub async fn create(
    tx: &mut PgConnection,
    token: &TokenHash,
    purpose: &Purpose,
    issuer: Option<UserId>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (kind, email, role, user) = match purpose {
        Purpose::Invitation { email, role } => (
            "invitation",
            Some(email.as_str()),
            Some(role.as_str()),
            None,
        ),
        Purpose::PasswordReset { user } => ("password_reset", None, None, Some(to_uuid(*user))),
    };
    sqlx::query!(
        "INSERT INTO account_tokens
             (id, purpose, verifier_hash, email, role, user_id, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        token.selector,
        kind,
        token.verifier_hash.as_slice(),
        email,
        role,
        user,
        issuer.map(to_uuid),
        now,
        expires_at
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The token with `selector`, before the clinic is known: the lookup setting opens that
/// one row to the service role. Redeeming it is [`mark_used`], whose row lock makes two
/// concurrent redemptions one.
pub async fn find_presented(
    tx: &mut PgConnection,
    selector: Uuid,
) -> Result<Option<StoredToken>, sqlx::Error> {
    db::set_lookup(tx, Lookup::AccountTokenId, &selector.to_string()).await?;
    let row = sqlx::query!(
        "SELECT id, clinic_id, purpose, verifier_hash, email, role, user_id, expires_at,
                used_at IS NOT NULL AS \"used!\"
         FROM account_tokens WHERE id = $1",
        selector
    )
    .fetch_optional(&mut *tx)
    .await?;
    db::set_lookup(tx, Lookup::AccountTokenId, "").await?;
    Ok(row.and_then(|row| {
        let purpose = match (row.purpose.as_str(), row.email, row.role, row.user_id) {
            ("invitation", Some(email), Some(role), None) => Purpose::Invitation {
                email,
                role: role.parse().ok()?,
            },
            ("password_reset", None, None, Some(user)) => Purpose::PasswordReset {
                user: from_uuid(user),
            },
            _ => return None,
        };
        Some(StoredToken {
            id: row.id,
            clinic_id: from_uuid(row.clinic_id),
            purpose,
            verifier_hash: row.verifier_hash,
            expires_at: row.expires_at,
            used: row.used,
        })
    }))
}

/// Marks the token used at `now`; `false` when it was used already.
pub async fn mark_used(
    tx: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let marked = sqlx::query!(
        "UPDATE account_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        id,
        now
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(marked == 1)
}

/// Voids the unused invitations for `email` in the clinic `tx` is scoped to: a new one
/// replaces them.
pub async fn void_invitations(
    tx: &mut PgConnection,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE account_tokens SET used_at = $2
         WHERE purpose = 'invitation' AND email = $1 AND used_at IS NULL",
        email,
        now
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Voids the unused reset tokens of `user`: a new one replaces them.
pub async fn void_resets(
    tx: &mut PgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE account_tokens SET used_at = $2
         WHERE purpose = 'password_reset' AND user_id = $1 AND used_at IS NULL",
        to_uuid(user),
        now
    )
    .execute(tx)
    .await?;
    Ok(())
}
