//! The caller of a protected route: the request scope every handler works in (HIPAA
//! 164.312(a)(1) access control, 164.312(b) audit controls). It is made from a live,
//! complete session ([`authenticate`]), carries the request's transaction scoped to the
//! caller's clinic, the clinic's keys and the audit context, and checks the role against
//! the access matrix before anything is read.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome, RequestMeta};
use crate::auth::roles::{Action, Resource};
use crate::auth::session::{CurrentUser, authenticate};
use crate::auth::store::session as sessions;
use crate::crypto::ClinicKeys;
use crate::db::Tx;
use crate::error::ApiError;
use crate::ids::to_uuid;
use crate::request::JsonBody;
use crate::state::AppState;

/// The caller of a protected route: a user whose session is live and complete (TOTP
/// given where the role needs it), with the request's transaction scoped to their
/// clinic. Handlers check the role with [`Caller::require`], work in [`Caller::tx`],
/// record what they did with [`Caller::record`] and end with [`Caller::commit`] (or all
/// three with [`Caller::conclude`]).
pub struct Caller {
    pub user: CurrentUser,
    pub tx: Tx,
    /// The clinic's encryption keys, to seal and open its PHI columns.
    pub keys: Arc<ClinicKeys>,
    /// Who acts, from where, for the audit trail.
    pub audit: AuditContext,
    /// The session the request presents (its row id, never the token).
    pub session_id: uuid::Uuid,
    /// When this session's second factor was given, if it was.
    pub mfa_at: Option<DateTime<Utc>>,
    /// When the request came: the session's new last use, written at [`Caller::commit`].
    seen_at: DateTime<Utc>,
}

impl Caller {
    /// Refuses with 403 `reauthentication_required` unless this session's second factor
    /// was given within `window` of `now` (NIST SP 800-63B §4.2.3: sensitive changes ask
    /// for fresh authentication). The refusal is on the record.
    pub async fn require_recent_mfa(
        mut self,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        if self.mfa_at.is_some_and(|at| now - at <= window) {
            return Ok(self);
        }
        let denied =
            Event::new(AuditAction::Denied, Outcome::Denied).on("sessions", Some(self.session_id));
        self.record(&[denied]).await?;
        self.commit().await?;
        Err(ApiError::ReauthenticationRequired)
    }

    /// Refuses with 403 unless the caller's role may do `action` on `resource` (the
    /// record `id`, if one). A refusal is audited and committed before the answer
    /// (HIPAA 164.312(b)).
    pub async fn require(
        mut self,
        action: Action,
        resource: Resource,
        id: Option<phi_guard::OpaqueId>,
    ) -> Result<Self, ApiError> {
        if self.user.role.may(action, resource) {
            return Ok(self);
        }
        let denied =
            Event::new(AuditAction::Denied, Outcome::Denied).on(resource.table(), id.map(to_uuid));
        self.record(&[denied]).await?;
        self.commit().await?;
        Err(ApiError::Forbidden)
    }

    /// Appends `events` in the request's transaction: they commit with the access or
    /// neither does (HIPAA 164.312(b)).
    pub async fn record(&mut self, events: &[Event]) -> Result<(), ApiError> {
        audit::record(&mut self.tx, &self.audit, events).await?;
        Ok(())
    }

    /// Records `action` on the record `id` of `resource` and commits; when `found` is
    /// `None` (no such record in this clinic), records a failed attempt and answers 404.
    pub async fn conclude<T>(
        mut self,
        action: AuditAction,
        resource: Resource,
        id: phi_guard::OpaqueId,
        found: Option<T>,
    ) -> Result<T, ApiError> {
        let outcome = if found.is_some() {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let event = Event::new(action, outcome).on(resource.table(), Some(to_uuid(id)));
        self.record(&[event]).await?;
        self.commit().await?;
        found.ok_or(ApiError::NotFound)
    }

    /// The request body as `T`. Read after the role check, so a caller without the role
    /// learns nothing from validation; a body that does not make a `T` is a failed
    /// `action` on `resource` (the record `id`, if one), on the record (HIPAA 164.312(b)).
    pub async fn parse<T: DeserializeOwned>(
        self,
        body: &JsonBody,
        action: AuditAction,
        resource: Resource,
        id: Option<phi_guard::OpaqueId>,
    ) -> Result<(Self, T), ApiError> {
        match body.parse() {
            Ok(value) => Ok((self, value)),
            Err(error) => Err(self.fail(action, resource, id, error).await),
        }
    }

    /// Records a failed `action` on `resource` (the record `id`, if one), commits, and
    /// hands back `error`: a refused write (a malformed body, a value out of range, a
    /// duplicate record number) is on the record too (HIPAA 164.312(b)). The transaction
    /// must still be usable: run the write that may fail in a savepoint.
    pub async fn fail(
        mut self,
        action: AuditAction,
        resource: Resource,
        id: Option<phi_guard::OpaqueId>,
        error: ApiError,
    ) -> ApiError {
        let event = Event::new(action, Outcome::Failure).on(resource.table(), id.map(to_uuid));
        if let Err(recording) = self.record(&[event]).await {
            return recording;
        }
        match self.commit().await {
            Ok(()) => error,
            Err(committing) => committing,
        }
    }

    /// Commits the request's transaction, with the session's new idle deadline. The
    /// session's row is written last, just before the commit, so a request holds no lock
    /// on it while it waits for others: two admins changing each other's accounts wait
    /// in turn instead of deadlocking on each other's sessions.
    pub async fn commit(mut self) -> Result<(), ApiError> {
        sessions::touch(&mut self.tx, self.session_id, self.seen_at).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        let mut authenticated = authenticate(state, &parts.headers, meta).await?;
        if authenticated.session.mfa_pending {
            // HIPAA 164.312(b), (d): a password-only session reaching for a route is refused
            // on the record.
            let denied = Event::new(AuditAction::Denied, Outcome::Denied)
                .on("sessions", Some(authenticated.session.id));
            audit::record(&mut authenticated.tx, &authenticated.audit, &[denied]).await?;
            authenticated.tx.commit().await?;
            return Err(ApiError::MfaRequired);
        }
        let keys = state
            .keyring
            .for_clinic(&mut authenticated.tx, to_uuid(authenticated.user.clinic_id))
            .await?;
        Ok(Caller {
            user: authenticated.user,
            session_id: authenticated.session.id,
            mfa_at: authenticated.session.mfa_at,
            seen_at: state.clock.now(),
            keys,
            tx: authenticated.tx,
            audit: authenticated.audit,
        })
    }
}
