//! The HTTP shape every clinical resource shares (README.md, "API"): list (paged), create, read,
//! update, soft-delete and exact-match search, each behind the session, the access matrix
//! and the clinic's row-level security.
//!
//! | method and path | action |
//! |---|---|
//! | `GET /things?after=ID&limit=N` | read |
//! | `POST /things` | create |
//! | `GET /things/{id}` | read |
//! | `PATCH /things/{id}` | update |
//! | `DELETE /things/{id}` | delete |
//! | `POST /things/search` | read (criteria in the body, never the URL) |
//!
//! A record of another clinic is not found (404), never forbidden, so its existence is not
//! revealed. Every access, refusal and failed attempt writes its audit event in the
//! request's transaction (HIPAA 164.312(b)); a list or search writes one per record. A
//! write the database or the validation refuses is recorded as a failure: it runs in a
//! savepoint, so the transaction outlives it.

use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use phi_guard::{OpaqueId, PhiJson, PhiResponse, SafePath, SafeQuery, UrlSafe};
use serde::Deserialize;
use sqlx::Connection;
use utoipa::{IntoParams, ToSchema};

use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::ids::to_uuid;
use crate::models::{ClinicalRecords, MAX_PAGE};
use crate::routes::openapi::{self, Body};
use crate::routes::{Doc, JsonBody, Route};

/// Records per page unless `limit` says otherwise.
pub const DEFAULT_PAGE: u32 = 50;

/// `?after=ID&limit=N`: ids only, so nothing in the URL is PHI.
#[derive(Debug, Deserialize, UrlSafe, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Continue after this record (the previous page's `next_after`).
    #[param(value_type = Option<Uuid>, nullable = false)]
    pub after: Option<OpaqueId>,
    /// How many records per page.
    // The maximum is `MAX_PAGE`; utoipa takes only a literal, so
    // `openapi_parameters_are_only_opaque_ids_and_paging` compares the two.
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<u32>,
}

/// One page of records; `next_after` continues it.
// `GET /openapi.json` names the schema of a `Page<Patient>` `PatientPage` (`Body::page`).
#[derive(PhiResponse, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(value_type = Option<Uuid>, required)]
    pub next_after: Option<OpaqueId>,
}

/// The routes of `R` under `collection` (e.g. `/patients`), `item` (`/patients/{id}`) and
/// `search` (`/patients/search`), each described with the schemas of `R`'s types.
pub fn routes<R: ClinicalRecords>(
    collection: &'static str,
    item: &'static str,
    search: &'static str,
) -> Vec<Route> {
    let doc = Doc::signed_in;
    let record = Some(Body::json::<R::Record>());
    vec![
        Route::new(
            Method::GET,
            collection,
            get(list::<R>),
            Doc {
                query: Some(openapi::query::<Paging>),
                ..doc(
                    "one page of records",
                    None,
                    200,
                    Some(Body::page::<R::Record>()),
                )
            },
        ),
        Route::new(
            Method::POST,
            collection,
            post(create::<R>),
            doc("create a record", Some(Body::json::<R::New>()), 201, record),
        ),
        Route::new(
            Method::POST,
            search,
            post(find::<R>),
            doc(
                "exact-match search, criteria in the body",
                Some(Body::json::<R::Search>()),
                200,
                Some(Body::list::<R::Record>()),
            ),
        ),
        Route::new(
            Method::GET,
            item,
            get(read::<R>),
            doc("read one record", None, 200, record),
        ),
        Route::new(
            Method::PATCH,
            item,
            patch(update::<R>),
            doc(
                "update a record",
                Some(Body::json::<R::Changes>()),
                200,
                record,
            ),
        ),
        Route::new(
            Method::DELETE,
            item,
            delete(remove::<R>),
            doc("soft-delete a record", None, 204, None),
        ),
    ]
}

pub(crate) async fn list<R: ClinicalRecords>(
    caller: Caller,
    SafeQuery(paging): SafeQuery<Paging>,
) -> Result<PhiJson<Page<R::Record>>, ApiError> {
    let mut caller = caller.require(Action::Read, R::RESOURCE, None).await?;
    // Capped here, not only in the query: a full page at the cap has a next page.
    let limit = i64::from(paging.limit.unwrap_or(DEFAULT_PAGE)).clamp(1, MAX_PAGE);
    let items = R::list(
        &mut caller.tx,
        &caller.keys,
        paging.after.map(R::Id::from),
        limit,
    )
    .await?;
    // HIPAA 164.312(b): one event per record read, in the same transaction.
    let ids = items.iter().map(|item| to_uuid(R::id_of(item)));
    caller
        .record(&Event::each(AuditAction::Read, R::RESOURCE.table(), ids))
        .await?;
    caller.commit().await?;
    let next_after = if items.len() as i64 >= limit {
        items.last().map(R::id_of)
    } else {
        None
    };
    Ok(PhiJson(Page { items, next_after }))
}

pub(crate) async fn create<R: ClinicalRecords>(
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, PhiJson<R::Record>), ApiError> {
    let (mut caller, new) = caller
        .require(Action::Create, R::RESOURCE, None)
        .await?
        .parse(&body, AuditAction::Create, R::RESOURCE, None)
        .await?;
    // In a savepoint: a refused insert (e.g. a duplicate record number) leaves the
    // transaction usable for its audit event.
    let mut savepoint = Connection::begin(&mut *caller.tx).await?;
    let created = R::create(&mut savepoint, &caller.keys, new).await;
    let record = match created {
        Ok(record) => {
            savepoint.commit().await?;
            record
        }
        Err(error) => {
            savepoint.rollback().await?;
            if matches!(error, ApiError::Conflict) {
                // A taken record number may belong to a patient the caller cannot see:
                // the answer tells them it exists, so the attempt is flagged as a
                // possible probe (compliance/risk-analysis.md).
                caller
                    .record(&[Event::new(AuditAction::Probe, Outcome::Failure)
                        .on(R::RESOURCE.table(), None)])
                    .await?;
            }
            return Err(caller
                .fail(AuditAction::Create, R::RESOURCE, None, error)
                .await);
        }
    };
    let id = R::id_of(&record);
    let record = caller
        .conclude(AuditAction::Create, R::RESOURCE, id, Some(record))
        .await?;
    Ok((StatusCode::CREATED, PhiJson(record)))
}

pub(crate) async fn read<R: ClinicalRecords>(
    caller: Caller,
    SafePath(id): SafePath<R::Id>,
) -> Result<PhiJson<R::Record>, ApiError> {
    let mut caller = caller
        .require(Action::Read, R::RESOURCE, Some(id.into()))
        .await?;
    let record = R::read(&mut caller.tx, &caller.keys, id).await?;
    let record = caller
        .conclude(AuditAction::Read, R::RESOURCE, id.into(), record)
        .await?;
    Ok(PhiJson(record))
}

pub(crate) async fn update<R: ClinicalRecords>(
    caller: Caller,
    SafePath(id): SafePath<R::Id>,
    body: JsonBody,
) -> Result<PhiJson<R::Record>, ApiError> {
    let (mut caller, changes) = caller
        .require(Action::Update, R::RESOURCE, Some(id.into()))
        .await?
        .parse(&body, AuditAction::Update, R::RESOURCE, Some(id.into()))
        .await?;
    let mut savepoint = Connection::begin(&mut *caller.tx).await?;
    let updated = R::update(&mut savepoint, &caller.keys, id, changes).await;
    let record = match updated {
        Ok(record) => {
            savepoint.commit().await?;
            record
        }
        Err(error) => {
            savepoint.rollback().await?;
            return Err(caller
                .fail(AuditAction::Update, R::RESOURCE, Some(id.into()), error)
                .await);
        }
    };
    let record = caller
        .conclude(AuditAction::Update, R::RESOURCE, id.into(), record)
        .await?;
    Ok(PhiJson(record))
}

pub(crate) async fn remove<R: ClinicalRecords>(
    caller: Caller,
    SafePath(id): SafePath<R::Id>,
) -> Result<StatusCode, ApiError> {
    let mut caller = caller
        .require(Action::Delete, R::RESOURCE, Some(id.into()))
        .await?;
    let deleted = R::delete(&mut caller.tx, id).await?;
    caller
        .conclude(
            AuditAction::Delete,
            R::RESOURCE,
            id.into(),
            deleted.then_some(()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn find<R: ClinicalRecords>(
    caller: Caller,
    body: JsonBody,
) -> Result<PhiJson<Vec<R::Record>>, ApiError> {
    let (mut caller, criteria) = caller
        .require(Action::Read, R::RESOURCE, None)
        .await?
        .parse(&body, AuditAction::Search, R::RESOURCE, None)
        .await?;
    let records = R::search(&mut caller.tx, &caller.keys, criteria).await?;
    let ids = records.iter().map(|record| to_uuid(R::id_of(record)));
    caller
        .record(&Event::each(AuditAction::Search, R::RESOURCE.table(), ids))
        .await?;
    caller.commit().await?;
    Ok(PhiJson(records))
}
