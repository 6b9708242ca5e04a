//! The auditor's pages (HIPAA 164.308(a)(1)(ii)(D) information system activity review,
//! 164.312(b) audit controls): the trail between two dates, the verification of its hash
//! chain, and the break-glass grants awaiting review. Reading the trail is itself on the
//! record, as through `GET /audit`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{NaiveDate, NaiveTime};
use phi_guard::SafePath;

use super::page::{self, Chrome, PageError};
use super::viewer::{Posted, Viewer};
use crate::audit::store as rows;
use crate::audit::{self, AuditAction, Event, Outcome};
use crate::auth::{Action, Resource};
use crate::error::ApiError;
use crate::ids::to_uuid;
use crate::models::MAX_PAGE;
use crate::models::emergency_access::{self as grants, EmergencyAccessId, Grant};
use crate::routes::audit::AuditEventView;
use crate::routes::emergency_access;
use crate::state::AppState;

/// The auditor's pages' place in the navigation bar.
const AUDIT: &str = "/app/audit";

/// The most events one search shows; a narrower range shows the rest.
pub const MAX_EVENTS: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(AUDIT, get(overview))
        .route("/app/audit/events", post(events))
        .route("/app/audit/reviews/{id}", post(review))
}

/// A grant awaiting review, as the page shows it.
pub struct GrantView {
    pub id: String,
    pub patient_id: String,
    pub user_id: String,
    pub reason: String,
    pub granted_at: String,
    pub expires_at: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct OverviewPage<'a> {
    chrome: Option<&'a Chrome>,
    chain_ok: bool,
    events_checked: i64,
    broken_at: Option<i64>,
    grants: Vec<GrantView>,
    from: String,
    to: String,
}

async fn overview(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let mut caller = caller
        .require(Action::Read, Resource::AuditTrail, None)
        .await?;
    let verification = audit::verify_chain(&mut caller.tx, to_uuid(caller.user.clinic_id)).await?;
    let mut events = vec![
        Event::new(AuditAction::Read, Outcome::Success).on(Resource::AuditTrail.table(), None),
    ];
    let grants = if caller
        .user
        .role
        .may(Action::Read, Resource::EmergencyAccess)
    {
        let grants = grants::unreviewed(&mut caller.tx, &caller.keys, None, MAX_PAGE).await?;
        // The reasons are PHI: one read event per grant shown, as `GET /emergency-access`.
        events.extend(Event::each(
            AuditAction::Read,
            Resource::EmergencyAccess.table(),
            grants.iter().map(|grant| to_uuid(grant.id)),
        ));
        grants
    } else {
        Vec::new()
    };
    caller.record(&events).await?;
    match caller.commit().await {
        Ok(()) => {}
        // As `GET /audit/verify`: a row past the head is the tampering being reported.
        Err(ApiError::Conflict) if verification.broken.is_some() => {}
        Err(error) => return Err(error.into()),
    }
    if let Some(link) = &verification.broken {
        tracing::error!(
            seq = link.seq,
            reason = link.reason.as_str(),
            "audit chain broken"
        );
    }
    let today = state.clock.now().date_naive().to_string();
    let chrome = chrome.at(AUDIT);
    Ok(page::render(
        StatusCode::OK,
        &OverviewPage {
            chrome: Some(&chrome),
            chain_ok: verification.broken.is_none(),
            events_checked: verification.events_checked,
            broken_at: verification.broken.map(|link| link.seq),
            grants: grants.iter().map(GrantView::of).collect(),
            from: today.clone(),
            to: today,
        },
    ))
}

impl GrantView {
    fn of(grant: &Grant) -> Self {
        Self {
            id: grant.id.to_string(),
            patient_id: grant.patient_id.to_string(),
            user_id: grant.user_id.to_string(),
            reason: grant.reason.expose().clone(),
            granted_at: grant.granted_at.format(TIME).to_string(),
            expires_at: grant.expires_at.format(TIME).to_string(),
        }
    }
}

/// How the pages write a moment.
const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

/// An event of the trail, as the page shows it.
pub struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub source: String,
}

impl EventRow {
    fn of(event: AuditEventView) -> Self {
        let resource = match (event.resource_type, event.resource_id) {
            (Some(kind), Some(id)) => format!("{kind}/{id}"),
            (Some(kind), None) => kind,
            _ => String::new(),
        };
        Self {
            seq: event.seq,
            at: event.occurred_at.format(TIME).to_string(),
            actor: event
                .actor_user_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            role: event.actor_role.unwrap_or_default(),
            action: event.action,
            resource,
            outcome: event.outcome,
            source: event.source_address.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit_events.html")]
struct EventsPage<'a> {
    chrome: Option<&'a Chrome>,
    from: String,
    to: String,
    rows: Vec<EventRow>,
    /// More events than [`MAX_EVENTS`] matched.
    truncated: bool,
    problem: Option<&'a str>,
}

/// The events from the start of `from` to the end of `to` (UTC dates), POSTed like every
/// filter. The trail is read in pages of its own order, as `GET /audit` reads it.
async fn events(Posted { viewer, fields }: Posted) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(AUDIT);
    let date = |name| {
        fields
            .get(name)
            .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
    };
    let (from_text, to_text) = (
        fields.get("from").unwrap_or_default().to_owned(),
        fields.get("to").unwrap_or_default().to_owned(),
    );
    let (Some(from), Some(to)) = (date("from"), date("to")) else {
        caller.commit().await?;
        return Ok(page::render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EventsPage {
                chrome: Some(&chrome),
                from: from_text,
                to: to_text,
                rows: Vec::new(),
                truncated: false,
                problem: Some("Give both dates as YYYY-MM-DD."),
            },
        ));
    };
    let start = from.and_time(NaiveTime::MIN).and_utc();
    let end = to.and_time(NaiveTime::MIN).and_utc() + chrono::Duration::days(1);
    let mut caller = caller
        .require(Action::Read, Resource::AuditTrail, None)
        .await?;
    let clinic = to_uuid(caller.user.clinic_id);
    let mut rows_found = Vec::new();
    let mut truncated = false;
    let mut after = 0;
    'pages: loop {
        let page_of = rows::page(&mut caller.tx, clinic, after, i64::MAX, MAX_PAGE).await?;
        let Some(last) = page_of.last() else { break };
        after = last.record.seq;
        for event in page_of {
            let at = event.record.occurred_at;
            if at >= end {
                break 'pages;
            }
            if at >= start {
                if rows_found.len() == MAX_EVENTS {
                    truncated = true;
                    break 'pages;
                }
                rows_found.push(EventRow::of(AuditEventView::from(event)));
            }
        }
    }
    let read =
        Event::new(AuditAction::Read, Outcome::Success).on(Resource::AuditTrail.table(), None);
    caller.record(&[read]).await?;
    caller.commit().await?;
    Ok(page::render(
        StatusCode::OK,
        &EventsPage {
            chrome: Some(&chrome),
            from: from_text,
            to: to_text,
            rows: rows_found,
            truncated,
            problem: None,
        },
    ))
}

/// Marks a grant reviewed, through the API's own handler.
async fn review(
    SafePath(id): SafePath<EmergencyAccessId>,
    Posted { viewer, .. }: Posted,
) -> Result<Response, PageError> {
    emergency_access::review(viewer.caller, SafePath(id)).await?;
    Ok(page::see_other(AUDIT))
}
