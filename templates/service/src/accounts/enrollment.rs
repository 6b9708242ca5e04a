//! TOTP enrollment over the API (RFC 6238; NIST SP 800-63B §6.1 authenticator binding):
//! a new account's first session holds a secret awaiting confirmation, and may do nothing
//! but confirm it with a code at `POST /auth/mfa/enroll`. The confirmation binds the
//! secret, hands out ten recovery codes once, and replaces the session with a complete
//! one.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::audit::{self, AuditAction, Event, Outcome, RequestMeta};
use crate::auth::login::{self, MfaRequest, NewSession};
use crate::auth::session::{self, MFA_MAX_FAILURES, SessionToken, Transport};
use crate::auth::store::session::{self as sessions, Stage};
use crate::auth::store::{recovery_code, user};
use crate::auth::tokens::{RECOVERY_CODES, RecoveryCode};
use crate::auth::totp;
use crate::crypto::ClinicKeys;
use crate::error::ApiError;
use crate::ids::{UserId, to_uuid};
use crate::state::AppState;

/// A TOTP secret to enter in an authenticator app, shown once: as base32 to type, and as
/// an `otpauth://` URI for a QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollment {
    pub totp_secret: String,
    pub totp_uri: String,
    /// The enrolling session's token, for clients that asked for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// What a confirmed enrollment answers: the recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    /// The new session's token, for clients that asked for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Gives `account` (`email`) a new TOTP secret awaiting confirmation, sealed with the
/// clinic's key, and starts a session that may only confirm it.
pub async fn start(
    tx: &mut PgConnection,
    keys: &ClinicKeys,
    account: UserId,
    email: &str,
    meta: RequestMeta,
    now: DateTime<Utc>,
) -> Result<(NewSession, TotpEnrollment), ApiError> {
    let secret = zeroize::Zeroizing::new(totp::new_secret().map_err(|_| ApiError::Internal)?);
    let sealed = keys
        .seal(user::TOTP_PENDING_SECRET, to_uuid(account), &secret)
        .map_err(|_| ApiError::Internal)?;
    user::set_pending_totp(tx, account, &sealed).await?;
    let token = SessionToken::generate()?;
    sessions::create(
        tx,
        &token.hash(),
        account,
        Stage::Enrolling,
        meta.source,
        now,
    )
    .await?;
    Ok((
        NewSession {
            token,
            stage: Stage::Enrolling,
        },
        TotpEnrollment {
            totp_secret: totp::secret_base32(&secret),
            totp_uri: totp::provisioning_uri(&secret, email),
            token: None,
        },
    ))
}

/// Ten new recovery codes for `account`, replacing its old ones in `tx`.
pub async fn new_recovery_codes(
    tx: &mut PgConnection,
    account: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<RecoveryCode>, ApiError> {
    let codes = (0..RECOVERY_CODES)
        .map(|_| RecoveryCode::generate())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::Internal)?;
    let hashes: Vec<[u8; 32]> = codes.iter().map(RecoveryCode::hash).collect();
    recovery_code::replace(tx, account, &hashes, now).await?;
    Ok(codes)
}

/// Confirms the enrolling session's secret with `request.code`. Attempts are counted
/// and serialized like `POST /auth/mfa`'s ([`login::complete_mfa`]).
pub async fn confirm(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
    request: MfaRequest,
) -> Result<(NewSession, Transport, Vec<RecoveryCode>), ApiError> {
    let mut enrolling = session::authenticate(state, headers, meta).await?;
    if !enrolling.session.enrolling {
        return Err(ApiError::Unauthorized);
    }
    let tx = &mut enrolling.tx;
    user::lock(tx, enrolling.user.id).await?;
    if !sessions::lock(tx, enrolling.session.id).await? {
        return Err(ApiError::Unauthorized);
    }
    let account = user::get(tx, enrolling.user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let on_session = Some(enrolling.session.id);
    let pair = match login::count_attempt(tx, &account, meta, now).await? {
        Ok(pair) => pair,
        Err(refusal) => {
            let throttled =
                Event::new(AuditAction::MfaFailed, Outcome::Denied).on("sessions", on_session);
            audit::record(tx, &enrolling.audit, &[throttled]).await?;
            enrolling.tx.commit().await?;
            return Err(refusal);
        }
    };
    let keys = state
        .keyring
        .for_clinic(tx, to_uuid(account.clinic_id))
        .await?;
    let row = to_uuid(account.id);
    let secret = account
        .totp_pending
        .as_deref()
        .map(|sealed| keys.open(user::TOTP_PENDING_SECRET, row, sealed))
        .transpose()
        .map_err(|_| ApiError::Internal)?
        .map(zeroize::Zeroizing::new);
    let step = secret
        .as_ref()
        .and_then(|secret| totp::accept(secret, &request.code, now, None));
    let (Some(secret), Some(step)) = (secret, step) else {
        if sessions::count_mfa_failure(tx, enrolling.session.id).await? >= MFA_MAX_FAILURES {
            sessions::delete(tx, enrolling.session.id).await?;
        }
        let failed =
            Event::new(AuditAction::MfaFailed, Outcome::Failure).on("sessions", on_session);
        audit::record(tx, &enrolling.audit, &[failed]).await?;
        enrolling.tx.commit().await?;
        return Err(ApiError::Unauthorized);
    };
    let sealed = keys
        .seal(user::TOTP_SECRET, row, &secret)
        .map_err(|_| ApiError::Internal)?;
    user::confirm_totp(tx, account.id, &sealed, step).await?;
    let codes = new_recovery_codes(tx, account.id, now).await?;
    login::signed_in(tx, account.id, &pair, meta, now).await?;
    sessions::delete(tx, enrolling.session.id).await?;
    let token = SessionToken::generate()?;
    let stage = Stage::Complete { mfa_at: Some(now) };
    sessions::create(tx, &token.hash(), account.id, stage, meta.source, now).await?;
    // HIPAA 164.312(b), (d): the binding of the second factor is on the record.
    let enrolled = Event::new(AuditAction::EnrollMfa, Outcome::Success).on("users", Some(row));
    audit::record(tx, &enrolling.audit, &[enrolled]).await?;
    enrolling.tx.commit().await?;
    tracing::info!(user_id = %account.id, "totp enrolled");
    Ok((NewSession { token, stage }, enrolling.transport, codes))
}
