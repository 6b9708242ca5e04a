//! `GET /audit`, `GET /audit/fhir`, `GET /audit/verify` (HIPAA 164.312(b)): the audit
//! trail of the caller's clinic, for auditors only (HIPAA 164.312(b)). Reading the trail
//! is itself audited.

use axum::Json;
use axum::http::Method;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use phi_guard::{OpaqueId, PhiJson, PhiResponse, SafeQuery, UrlSafe};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::audit::chain::StoredEvent;
use crate::audit::store as rows;
use crate::audit::{self, AuditAction, Event, Outcome, fhir};
use crate::auth::{Action, Caller, Resource};
use crate::crypto::hex;
use crate::error::ApiError;
use crate::ids::{from_uuid, to_uuid};
use crate::models::MAX_PAGE;
use crate::routes::openapi::{self, Body};
use crate::routes::resource::DEFAULT_PAGE;
use crate::routes::{Doc, Route};

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/audit",
            get(list),
            Doc {
                summary: "audit events of the caller's clinic",
                public: false,
                request: None,
                status: 200,
                response: Some(Body::json::<AuditPage>()),
                query: Some(openapi::query::<AuditPaging>),
            },
        ),
        Route::new(
            Method::GET,
            "/audit/fhir",
            get(list_fhir),
            Doc {
                summary: "audit events as a FHIR AuditEvent bundle",
                public: false,
                request: None,
                status: 200,
                response: Some(Body::json::<fhir::FhirBundle>().media_type(fhir::MEDIA_TYPE)),
                query: Some(openapi::query::<AuditPaging>),
            },
        ),
        Route::new(
            Method::GET,
            "/audit/verify",
            get(verify),
            Doc {
                summary: "verify the hash chain; the first broken link",
                public: false,
                request: None,
                status: 200,
                response: Some(Body::json::<VerificationView>()),
                query: None,
            },
        ),
    ]
}

/// `?after=SEQ&limit=N`: events after sequence number `after`, oldest first.
#[derive(Debug, Deserialize, UrlSafe, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditPaging {
    /// Continue after this sequence number (the previous page's `next_after`).
    #[param(nullable = false)]
    pub after: Option<i64>,
    /// How many events per page.
    // The maximum is `MAX_PAGE`; utoipa takes only a literal, so
    // `openapi_parameters_are_only_opaque_ids_and_paging` compares the two.
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<u32>,
}

impl AuditPaging {
    /// The events a page holds: `limit`, within 1 and [`MAX_PAGE`].
    fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(DEFAULT_PAGE)).clamp(1, MAX_PAGE)
    }
}

/// One audit event: ids, codes and times, never PHI.
#[derive(Debug, PhiResponse, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventView {
    #[schema(value_type = Uuid)]
    pub id: OpaqueId,
    pub seq: i64,
    #[phi(serde)]
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Option<Uuid>, required)]
    pub actor_user_id: Option<OpaqueId>,
    #[schema(required)]
    pub actor_role: Option<String>,
    pub action: String,
    #[schema(required)]
    pub resource_type: Option<String>,
    #[schema(value_type = Option<Uuid>, required)]
    pub resource_id: Option<OpaqueId>,
    pub outcome: String,
    #[schema(value_type = Option<Uuid>, required)]
    pub request_id: Option<OpaqueId>,
    #[schema(required)]
    pub source_address: Option<String>,
    /// The chain link, hex.
    pub prev_hash: String,
    pub hash: String,
}

/// A page of events; `next_after` continues it.
#[derive(Debug, PhiResponse, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEventView>,
    #[schema(required)]
    pub next_after: Option<i64>,
}

/// What `GET /audit/verify` answers.
#[derive(Debug, PhiResponse, ToSchema)]
#[schema(as = ChainVerification)]
pub struct VerificationView {
    pub ok: bool,
    pub events_checked: i64,
    #[schema(inline, required)]
    pub broken: Option<BrokenLinkView>,
}

/// The first link of the chain that does not hold.
#[derive(Debug, PhiResponse, ToSchema)]
pub struct BrokenLinkView {
    pub seq: i64,
    #[schema(value_type = Option<Uuid>, required)]
    pub event_id: Option<OpaqueId>,
    pub reason: String,
}

impl From<StoredEvent> for AuditEventView {
    fn from(event: StoredEvent) -> Self {
        let record = event.record;
        Self {
            id: from_uuid(event.id),
            seq: record.seq,
            occurred_at: record.occurred_at,
            actor_user_id: record.actor_user_id.map(from_uuid),
            actor_role: record.actor_role,
            action: record.action,
            resource_type: record.resource_type,
            resource_id: record.resource_id.map(from_uuid),
            outcome: record.outcome,
            request_id: record.request_id.map(from_uuid),
            source_address: record.source_address,
            prev_hash: hex(&event.prev_hash),
            hash: hex(&event.hash),
        }
    }
}

/// The auditor's page of events, the read of it recorded in the same transaction.
async fn read_page(caller: Caller, paging: AuditPaging) -> Result<Vec<StoredEvent>, ApiError> {
    let mut caller = caller
        .require(Action::Read, Resource::AuditTrail, None)
        .await?;
    let clinic = to_uuid(caller.user.clinic_id);
    let after = paging.after.unwrap_or(0);
    let events = rows::page(&mut caller.tx, clinic, after, i64::MAX, paging.limit()).await?;
    let read =
        Event::new(AuditAction::Read, Outcome::Success).on(Resource::AuditTrail.table(), None);
    caller.record(&[read]).await?;
    caller.commit().await?;
    Ok(events)
}

pub(crate) async fn list(
    caller: Caller,
    SafeQuery(paging): SafeQuery<AuditPaging>,
) -> Result<PhiJson<AuditPage>, ApiError> {
    let limit = paging.limit();
    let events = read_page(caller, paging).await?;
    let next_after = if events.len() as i64 >= limit {
        events.last().map(|event| event.record.seq)
    } else {
        None
    };
    let items = events.into_iter().map(AuditEventView::from).collect();
    Ok(PhiJson(AuditPage { items, next_after }))
}

/// The same page as a FHIR R4 Bundle of AuditEvents (`application/fhir+json`).
async fn list_fhir(
    caller: Caller,
    SafeQuery(paging): SafeQuery<AuditPaging>,
) -> Result<Response, ApiError> {
    let events = read_page(caller, paging).await?;
    let mut response = Json(fhir::bundle(&events)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fhir::MEDIA_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Recomputes the clinic's chain up to its head, in the request's own transaction, and
/// reports the first broken link. Tampering is an answer (200, `ok: false`), never an
/// error status.
pub(crate) async fn verify(caller: Caller) -> Result<PhiJson<VerificationView>, ApiError> {
    let mut caller = caller
        .require(Action::Read, Resource::AuditTrail, None)
        .await?;
    let verification = audit::verify_chain(&mut caller.tx, to_uuid(caller.user.clinic_id)).await?;
    let read =
        Event::new(AuditAction::Read, Outcome::Success).on(Resource::AuditTrail.table(), None);
    caller.record(&[read]).await?;
    match caller.commit().await {
        Ok(()) => {}
        // A row stored past the head by the database owner keeps the chain from taking
        // this read's event. That is the tampering being reported: answer it (200, `ok:
        // false`), never with a conflict.
        Err(ApiError::Conflict) if verification.broken.is_some() => {}
        Err(error) => return Err(error),
    }
    if let Some(link) = verification.broken {
        tracing::error!(
            seq = link.seq,
            reason = link.reason.as_str(),
            "audit chain broken"
        );
    }
    Ok(PhiJson(VerificationView {
        ok: verification.broken.is_none(),
        events_checked: verification.events_checked,
        broken: verification.broken.map(|link| BrokenLinkView {
            seq: link.seq,
            event_id: link.event_id.map(from_uuid),
            reason: link.reason.as_str().to_owned(),
        }),
    }))
}
