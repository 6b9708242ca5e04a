//! The audit trail (HIPAA 164.312(b) audit controls, 164.312(c)(1) integrity).
//!
//! Every access to PHI, and every login, MFA step, logout, timeout and denial, appends an
//! event with [`record`] **in the transaction of the access**: if the event cannot be
//! written or chained (which happens as the transaction commits), the transaction rolls
//! back and the access never happened. Events name records
//! by opaque id and people by account id, never by PHI.
//!
//! - [`chain`]: the per-clinic hash chain, its canonical encoding and its verification;
//! - [`fhir`]: the events as FHIR R4 AuditEvent resources.
//!
//! Failed logins for an email address that matches no account are not recorded here: no
//! clinic is known, and attributing the attempt to one would reveal which addresses exist
//! in which clinic. They count in the login throttle (a hash of address and account) and
//! the structured log says "login refused", without the address.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::audit::store as rows;
use crate::ids::{ClinicId, UserId, to_uuid};

pub mod chain;
pub mod checkpoint;
pub mod fhir;
pub mod store;

use chain::{BrokenLink, Record, Verifier};

/// What an event records; the `audit_events.action` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Read,
    Create,
    Update,
    Delete,
    Search,
    Login,
    LoginFailed,
    Mfa,
    MfaFailed,
    Logout,
    Timeout,
    Denied,
    BreakGlass,
    /// Data sent to, or refused for, an outside vendor (src/egress); `resource_type` names
    /// the vendor.
    Egress,
    /// A request that may be probing for the existence of a record it cannot see (an
    /// emergency access to an unknown id, a record number taken by a hidden patient).
    Probe,
    /// The administrative commands run on the server (HIPAA 164.308(a)(1)(ii)(D)
    /// information system activity review).
    CreateClinic,
    CreateUser,
    DisableUser,
    UnlockUser,
    RotateKeys,
    Seed,
    AuditCheckpoint,
    /// The account steps over the API (HIPAA 164.308(a)(3)(ii)(C) termination,
    /// 164.308(a)(4) access authorization): an admin invites, changes a role, disables or
    /// enables an account, issues a password reset or ends an account's sessions; the
    /// account's holder accepts, enrolls TOTP, completes a reset, changes the password,
    /// uses or renews recovery codes, ends one of their sessions.
    InviteUser,
    AcceptInvitation,
    EnrollMfa,
    ChangeRole,
    EnableUser,
    ResetPassword,
    CompletePasswordReset,
    ChangePassword,
    UseRecoveryCode,
    RenewRecoveryCodes,
    RevokeSession,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Search => "search",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Mfa => "mfa",
            Self::MfaFailed => "mfa_failed",
            Self::Logout => "logout",
            Self::Timeout => "timeout",
            Self::Denied => "denied",
            Self::BreakGlass => "break_glass",
            Self::Egress => "egress",
            Self::Probe => "probe",
            Self::CreateClinic => "create_clinic",
            Self::CreateUser => "create_user",
            Self::DisableUser => "disable_user",
            Self::UnlockUser => "unlock_user",
            Self::RotateKeys => "rotate_keys",
            Self::Seed => "seed",
            Self::AuditCheckpoint => "audit_checkpoint",
            Self::InviteUser => "invite_user",
            Self::AcceptInvitation => "accept_invitation",
            Self::EnrollMfa => "enroll_mfa",
            Self::ChangeRole => "change_role",
            Self::EnableUser => "enable_user",
            Self::ResetPassword => "reset_password",
            Self::CompletePasswordReset => "complete_password_reset",
            Self::ChangePassword => "change_password",
            Self::UseRecoveryCode => "use_recovery_code",
            Self::RenewRecoveryCodes => "renew_recovery_codes",
            Self::RevokeSession => "revoke_session",
        }
    }
}

/// How the recorded attempt ended; the `audit_events.outcome` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// E.g. a wrong password, or a record that is not there.
    Failure,
    /// The role may not do this.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// Where a request comes from: the server-made request id and the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<Uuid>,
    pub source: IpAddr,
}

/// Who acts, in which clinic, from where and when: the same for every event of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub clinic: ClinicId,
    pub actor: Option<UserId>,
    /// The actor's role, as `audit_events.actor_role` names it (`crate::auth::Role::as_str`).
    pub role: Option<&'static str>,
    /// The request, or `None` for an administrative command run on the server.
    pub meta: Option<RequestMeta>,
    pub at: DateTime<Utc>,
}

impl AuditContext {
    /// The context of an administrative command (`create-user`, `rotate-keys`, ...) run on
    /// the server: no account acts, no request carries it.
    pub fn command(clinic: ClinicId, at: DateTime<Utc>) -> Self {
        Self {
            clinic,
            actor: None,
            role: None,
            meta: None,
            at,
        }
    }
}

/// One event to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub action: AuditAction,
    pub outcome: Outcome,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<Uuid>,
}

impl Event {
    pub fn new(action: AuditAction, outcome: Outcome) -> Self {
        Self {
            action,
            outcome,
            resource_type: None,
            resource_id: None,
        }
    }

    /// The same event about `resource_type` (a table name), and the record `id` if one.
    pub fn on(self, resource_type: &'static str, id: Option<Uuid>) -> Self {
        Self {
            resource_type: Some(resource_type),
            resource_id: id,
            ..self
        }
    }

    /// One successful `action` per record in `ids` (a page, search results), or one
    /// without a record when there are none: an empty answer is an access too.
    pub fn each(
        action: AuditAction,
        resource_type: &'static str,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Vec<Self> {
        let base = Self::new(action, Outcome::Success);
        let events: Vec<Self> = ids
            .into_iter()
            .map(|id| base.on(resource_type, Some(id)))
            .collect();
        if events.is_empty() {
            vec![base.on(resource_type, None)]
        } else {
            events
        }
    }
}

/// Appends `events` to the chain of the context's clinic, in `tx`, which must be scoped
/// to that clinic. HIPAA 164.312(b): the caller's access commits with these events or
/// not at all.
pub async fn record(
    tx: &mut PgConnection,
    context: &AuditContext,
    events: &[Event],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let clinic_id = to_uuid(context.clinic);
    // Stored with microsecond precision: hash what the database keeps.
    let occurred_at =
        DateTime::from_timestamp_micros(context.at.timestamp_micros()).unwrap_or(context.at);
    let records: Vec<Record> = events
        .iter()
        .map(|event| Record {
            clinic_id,
            // Numbered by the database, under the lock of the clinic's chain head.
            seq: 0,
            occurred_at,
            actor_user_id: context.actor.map(to_uuid),
            actor_role: context.role.map(str::to_owned),
            action: event.action.as_str().to_owned(),
            resource_type: event.resource_type.map(str::to_owned),
            resource_id: event.resource_id,
            outcome: event.outcome.as_str().to_owned(),
            request_id: context.meta.and_then(|meta| meta.request_id),
            source_address: context.meta.map(|meta| meta.source.to_string()),
        })
        .collect();
    // Chained when the transaction commits (see `rows::append`): the clinic's chain head
    // is locked from then until the commit completes, so appends never fork the chain,
    // and no access waits on another's network round trip.
    rows::append(tx, &records).await
}

/// Records `action` of an administrative command run as the owner on every clinic's
/// chain, one clinic per transaction (HIPAA 164.312(b): `rotate-keys`,
/// `audit-checkpoint`).
pub async fn record_command_everywhere(
    connection: &mut PgConnection,
    action: AuditAction,
    resource_type: &'static str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for clinic in rows::clinics(connection).await? {
        let clinic = crate::ids::from_uuid(clinic);
        let mut tx = connection.begin().await?;
        crate::db::set_scope(&mut tx, clinic, None).await?;
        let event = Event::new(action, Outcome::Success).on(resource_type, None);
        record(&mut tx, &AuditContext::command(clinic, at), &[event]).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The result of checking one clinic's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub clinic_id: Uuid,
    pub events_checked: i64,
    /// The first link that does not hold; `None` when the chain is intact.
    pub broken: Option<BrokenLink>,
}

/// Events read per query while verifying.
const VERIFY_PAGE: i64 = 1000;

/// Recomputes the chain of `clinic_id` from its first event to its head, in any
/// transaction that sees the clinic: the head and the newest number are read in one
/// statement and only events up to that head are checked, so events appended meanwhile
/// never look like a break, and the caller's own transaction serves (no second pooled
/// connection is taken while one is held).
pub async fn verify_chain(
    tx: &mut PgConnection,
    clinic_id: Uuid,
) -> Result<Verification, sqlx::Error> {
    let end = rows::chain_end(tx, clinic_id).await?;
    if end.head.is_none() && end.newest.is_none() {
        // Every clinic's creation is audited: a clinic without a chain lost it whole.
        return Ok(Verification {
            clinic_id,
            events_checked: 0,
            broken: Some(BrokenLink {
                seq: 0,
                event_id: None,
                reason: chain::BreakReason::NoChain,
            }),
        });
    }
    let up_to = end
        .head
        .as_ref()
        .map_or(end.newest.unwrap_or(0), |(seq, _)| *seq);
    let mut verifier = Verifier::default();
    let mut broken = None;
    'pages: loop {
        let events = rows::page(tx, clinic_id, verifier.checked(), up_to, VERIFY_PAGE).await?;
        if events.is_empty() {
            break;
        }
        for event in &events {
            if let Err(link) = verifier.check(event) {
                broken = Some(link);
                break 'pages;
            }
        }
    }
    if broken.is_none() {
        broken = verifier
            .finish(end.head.as_ref().map(|(seq, hash)| (*seq, hash.as_slice())))
            .err();
    }
    if broken.is_none() && end.newest.is_some_and(|newest| newest > up_to) {
        broken = Some(BrokenLink {
            seq: up_to + 1,
            event_id: None,
            reason: chain::BreakReason::HeadMismatch,
        });
    }
    Ok(Verification {
        clinic_id,
        events_checked: verifier.checked(),
        broken,
    })
}

/// Every clinic's chain, as the owner role sees them (`verify-audit`).
pub async fn verify_all(connection: &mut PgConnection) -> Result<Vec<Verification>, sqlx::Error> {
    let mut tx = connection.begin().await?;
    read_one_snapshot(&mut tx).await?;
    let mut verifications = Vec::new();
    let mut clinics = rows::chains(&mut tx).await?;
    // A clinic whose chain was deleted whole is verified too, and reported.
    clinics.extend(rows::clinics_without_chain(&mut tx).await?);
    clinics.sort();
    clinics.dedup();
    for clinic_id in clinics {
        verifications.push(verify_chain(&mut tx, clinic_id).await?);
    }
    tx.commit().await?;
    Ok(verifications)
}

/// Makes the transaction `tx` has just begun read-only, on one snapshot of the database
/// throughout, for [`verify_chain`].
pub async fn read_one_snapshot(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(tx)
        .await?;
    Ok(())
}
