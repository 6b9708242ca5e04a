//! Login, the TOTP step and logout (HIPAA 164.312(d) person or entity authentication;
//! NIST SP 800-63B).
//!
//! Every failure before a session exists answers the same `401 unauthorized`, whether the
//! account is unknown, disabled, or the password wrong, and takes the same time: an
//! unknown account's password is checked against a decoy hash. No database connection is
//! held while a password is hashed.
//!
//! Each step is audited in its own transaction (HIPAA 164.312(b)): login, a failed or
//! throttled login of an existing account (in its clinic, a disabled one's included),
//! MFA, a wrong or throttled TOTP code, logout. A failed login for an address with no
//! account is not (see [`crate::audit`]).

use axum::http::HeaderMap;
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::password::{HashError, Password};
use crate::auth::session::{self, MFA_MAX_FAILURES, SessionToken, Transport};
use crate::auth::store::recovery_code;
use crate::auth::store::session::{self as sessions, Stage};
use crate::auth::store::user::{self, Account, StoredTotp};
use crate::auth::throttle::{self, Gate};
use crate::auth::tokens::{self, RecoveryCode};
use crate::auth::totp;
use crate::crypto::ClinicKeys;
use crate::db;
use crate::error::ApiError;
use crate::ids::{UserId, to_uuid};
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

/// `POST /auth/mfa`: the 6-digit TOTP code, or one of the account's recovery codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    pub code: String,
}

/// A new session: complete, waiting for its TOTP code, or a new account's enrollment.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub stage: Stage,
}

impl NewSession {
    /// Whether the session still owes a second factor.
    pub fn mfa_pending(&self) -> bool {
        !matches!(self.stage, Stage::Complete { .. })
    }
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
///
/// The attempt is counted before the password is checked, in the transaction that checks
/// the limits ([`throttle`]); only a completed sign-in clears the counts, so a correct
/// password alone does not reset a guesser's budget of second factors.
pub async fn login(
    state: &AppState,
    request: LoginRequest,
    meta: RequestMeta,
) -> Result<NewSession, ApiError> {
    let email = user::normalize_email(&request.email);
    let pair = throttle::pair_key(&email, meta.source);
    let now = state.clock.now();

    let mut tx = state.pool.begin().await?;
    let pair_gate = throttle::count_attempt(&mut tx, &pair, now).await?;
    let account = user::find_for_login(&mut tx, &email).await?;
    let mut gate = pair_gate;
    if let Some(account) = &account {
        db::set_scope(&mut tx, account.clinic_id, None).await?;
        if gate == Gate::Counted && !account.disabled {
            gate = throttle::count_account_attempt(&mut tx, account.id, meta.source, now).await?;
        }
    }
    if gate != Gate::Counted {
        // HIPAA 164.308(a)(5)(ii)(C): a throttled attempt on a known account is on record.
        if let Some(account) = &account {
            let throttled = Event::new(AuditAction::LoginFailed, Outcome::Denied);
            audit::record(&mut tx, &context(account, meta, now), &[throttled]).await?;
        }
        tx.commit().await?;
        // The same work as a checked password, so a lock cannot be told apart by time.
        state.hasher.verify(request.password, None).await?;
        tracing::info!("login throttled");
        return Err(throttle::refusal(pair_gate, now));
    }
    tx.commit().await?;

    // No connection is held while the password is hashed.
    let stored = account
        .as_ref()
        .filter(|account| !account.disabled)
        .map(|account| account.password_hash.clone());
    let verification = state.hasher.verify(request.password, stored).await?;

    let mut tx = state.pool.begin().await?;
    let account = match account {
        Some(account) if verification.matches && may_sign_in(&account) => account,
        other => {
            if let Some(account) = other {
                db::set_scope(&mut tx, account.clinic_id, None).await?;
                // A disabled account's attempt is refused on the record too.
                let outcome = if account.disabled {
                    Outcome::Denied
                } else {
                    Outcome::Failure
                };
                let failed = Event::new(AuditAction::LoginFailed, outcome);
                audit::record(&mut tx, &context(&account, meta, now), &[failed]).await?;
            }
            tx.commit().await?;
            tracing::info!("login refused");
            return Err(ApiError::Unauthorized);
        }
    };
    db::set_scope(&mut tx, account.clinic_id, Some(account.id)).await?;
    if let Some(rehashed) = &verification.rehashed {
        user::set_password_hash(&mut tx, account.id, rehashed).await?;
    }
    // An account with a second factor always gives it, whatever its role.
    let mfa_pending = account.role.requires_mfa() || account.totp.is_some();
    let stage = if mfa_pending {
        Stage::MfaPending
    } else {
        signed_in(&mut tx, account.id, &pair, meta, now).await?;
        Stage::Complete { mfa_at: None }
    };
    let token = SessionToken::generate()?;
    sessions::create(&mut tx, &token.hash(), account.id, stage, meta.source, now).await?;
    let accepted = Event::new(AuditAction::Login, Outcome::Success);
    audit::record(&mut tx, &context(&account, meta, now), &[accepted]).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, mfa_pending, "login accepted");
    Ok(NewSession { token, stage })
}

/// A sign-in is complete: clears the account's counts, makes the network it came from
/// the account's usual one, and records when.
pub(crate) async fn signed_in(
    tx: &mut PgConnection,
    account: UserId,
    pair: &str,
    meta: RequestMeta,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    throttle::clear(tx, pair).await?;
    throttle::clear_account(tx, account, meta.source).await?;
    user::record_sign_in(tx, account, now).await
}

/// Counts one password or second-factor attempt on `account` from `meta.source` before it
/// is checked, per account and network and per account ([`throttle`]). `Err` is the
/// refusal to answer when a limit is reached; the caller records it and commits.
pub(crate) async fn count_attempt(
    tx: &mut PgConnection,
    account: &Account,
    meta: RequestMeta,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<String, ApiError>, ApiError> {
    let pair = throttle::pair_key(&account.email, meta.source);
    let pair_gate = throttle::count_attempt(tx, &pair, now).await?;
    let gate = match pair_gate {
        Gate::Counted => throttle::count_account_attempt(tx, account.id, meta.source, now).await?,
        refused => refused,
    };
    Ok(if gate == Gate::Counted {
        Ok(pair)
    } else {
        Err(throttle::refusal(pair_gate, now))
    })
}

/// Which second factor a sign-in step was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

/// Checks `code` against `account`'s second factor and takes it: a TOTP code's time step
/// is recorded (RFC 6238 §5.2), a recovery code is marked used (NIST SP 800-63B §5.1.2),
/// so neither works twice, even submitted concurrently. `None` when it is neither. The
/// caller holds the account's row lock ([`user::lock`]).
pub(crate) async fn take_second_factor(
    tx: &mut PgConnection,
    keys: &ClinicKeys,
    account: &Account,
    code: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<SecondFactor>, ApiError> {
    if let Some(typed) = RecoveryCode::hash_of(code) {
        let stored = recovery_code::unused(tx, account.id).await?;
        let taken = match tokens::find_recovery_code(&typed, &stored) {
            Some(id) => recovery_code::mark_used(tx, id, now).await?,
            None => false,
        };
        return Ok(taken.then_some(SecondFactor::RecoveryCode));
    }
    let secret = open_totp(keys, account)?;
    let accepted = secret
        .as_ref()
        .and_then(|opened| totp::accept(&opened.secret, code, now, account.totp_last_step));
    let recorded = match accepted {
        Some(step) => user::record_totp_step(tx, account.id, step).await?,
        None => false,
    };
    if !recorded {
        return Ok(None);
    }
    if let Some(sealed) = secret.as_ref().and_then(|opened| opened.to_seal.as_ref()) {
        user::seal_totp_secret(tx, account.id, sealed).await?;
    }
    Ok(Some(SecondFactor::Totp))
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
        role: Some(account.role.as_str()),
        meta: Some(meta),
        at: now,
    }
}

/// A role that needs TOTP cannot sign in without an enrolled secret: the password alone
/// never opens such an account.
fn may_sign_in(account: &Account) -> bool {
    if account.role.requires_mfa() && account.totp.is_none() {
        tracing::warn!(user_id = %account.id, "login refused: the role requires TOTP and none is enrolled");
        return false;
    }
    true
}

/// An account's TOTP secret in the clear, for one check.
struct OpenedTotp {
    /// Wiped when dropped, like every other key (NIST SP 800-57).
    secret: zeroize::Zeroizing<Vec<u8>>,
    /// The sealed form to store, when the secret was still held in plaintext.
    to_seal: Option<Vec<u8>>,
}

/// Opens the account's TOTP secret with its clinic's keys.
fn open_totp(keys: &ClinicKeys, account: &Account) -> Result<Option<OpenedTotp>, ApiError> {
    let row = to_uuid(account.id);
    match &account.totp {
        None => Ok(None),
        Some(StoredTotp::Sealed(sealed)) => keys
            .open(user::TOTP_SECRET, row, sealed)
            .map(|secret| {
                Some(OpenedTotp {
                    secret: zeroize::Zeroizing::new(secret),
                    to_seal: None,
                })
            })
            .map_err(|error| {
                tracing::error!(user_id = %account.id, %error, "a sealed TOTP secret does not open");
                ApiError::Internal
            }),
        Some(StoredTotp::Legacy(secret)) => {
            let sealed = keys
                .seal(user::TOTP_SECRET, row, secret)
                .map_err(|_| ApiError::Internal)?;
            Ok(Some(OpenedTotp {
                secret: zeroize::Zeroizing::new(secret.clone()),
                to_seal: Some(sealed),
            }))
        }
    }
}

/// Completes a pending session with its TOTP code. The pending session ends either way
/// it succeeds, and a new token replaces it (NIST SP 800-63B §7.1: a new session secret
/// at authentication).
///
/// Attempts on one account run one at a time (its row is locked), are counted per account
/// and network before the code is checked, and a code's time step is taken once, so
/// neither parallel submissions nor fresh pending sessions buy more guesses (RFC 6238
/// §5.2; NIST SP 800-63B §5.2.2).
pub async fn complete_mfa(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
    request: MfaRequest,
) -> Result<(NewSession, Transport), ApiError> {
    let mut pending = session::authenticate(state, headers, meta).await?;
    // An enrolling session confirms its secret at /auth/mfa/enroll, nowhere else.
    if !pending.session.mfa_pending || pending.session.enrolling {
        return Err(ApiError::Unauthorized);
    }
    let tx = &mut pending.tx;
    user::lock(tx, pending.user.id).await?;
    // A concurrent attempt may have ended this pending session while this one waited.
    if !sessions::lock(tx, pending.session.id).await? {
        return Err(ApiError::Unauthorized);
    }
    let account = user::get(tx, pending.user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let pair = match count_attempt(tx, &account, meta, now).await? {
        Ok(pair) => pair,
        Err(refusal) => {
            let throttled = Event::new(AuditAction::MfaFailed, Outcome::Denied)
                .on("sessions", Some(pending.session.id));
            audit::record(tx, &pending.audit, &[throttled]).await?;
            pending.tx.commit().await?;
            tracing::info!(user_id = %account.id, "mfa throttled");
            return Err(refusal);
        }
    };

    let keys = state
        .keyring
        .for_clinic(tx, to_uuid(account.clinic_id))
        .await?;
    let Some(factor) = take_second_factor(tx, &keys, &account, &request.code, now).await? else {
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
    signed_in(tx, account.id, &pair, meta, now).await?;
    sessions::delete(tx, pending.session.id).await?;
    let token = SessionToken::generate()?;
    let stage = Stage::Complete { mfa_at: Some(now) };
    sessions::create(tx, &token.hash(), account.id, stage, meta.source, now).await?;
    let mut events = vec![
        Event::new(AuditAction::Mfa, Outcome::Success).on("sessions", Some(pending.session.id)),
    ];
    if factor == SecondFactor::RecoveryCode {
        // HIPAA 164.312(b): a recovery code spent is on the record, so its owner and the
        // auditors see it.
        events.push(
            Event::new(AuditAction::UseRecoveryCode, Outcome::Success)
                .on("users", Some(to_uuid(account.id))),
        );
    }
    audit::record(tx, &pending.audit, &events).await?;
    pending.tx.commit().await?;
    tracing::info!(user_id = %account.id, ?factor, "mfa accepted");
    Ok((NewSession { token, stage }, pending.transport))
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
