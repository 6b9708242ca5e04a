//! The HTTP shape every clinical resource shares (SPEC 4.1): list (paged), create, read,
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
//! revealed.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use phi_guard::{OpaqueId, PhiJson, PhiResponse, SafePath, SafeQuery, UrlSafe};
use serde::Deserialize;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::models::ClinicalRecords;
use crate::routes::JsonBody;
use crate::state::AppState;

/// Records per page unless `limit` says otherwise.
pub const DEFAULT_PAGE: u32 = 50;

/// `?after=ID&limit=N`: ids only, so nothing in the URL is PHI.
#[derive(Debug, Deserialize, UrlSafe)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub after: Option<OpaqueId>,
    pub limit: Option<u32>,
}

/// One page of records; `next_after` continues it.
#[derive(PhiResponse)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<OpaqueId>,
}

/// The routes of `R` under `collection` (e.g. `/patients`), `item` (`/patients/{id}`) and
/// `search` (`/patients/search`).
pub fn routes<R: ClinicalRecords>(
    collection: &'static str,
    item: &'static str,
    search: &'static str,
) -> Router<AppState> {
    Router::new()
        .route(collection, get(list::<R>).post(create::<R>))
        .route(search, post(find::<R>))
        .route(item, get(read::<R>).patch(update::<R>).delete(remove::<R>))
}

async fn list<R: ClinicalRecords>(
    mut caller: Caller,
    SafeQuery(paging): SafeQuery<Paging>,
) -> Result<PhiJson<Page<R::Record>>, ApiError> {
    caller.require(Action::Read, R::RESOURCE)?;
    let limit = i64::from(paging.limit.unwrap_or(DEFAULT_PAGE));
    let items = R::list(&mut caller.tx, paging.after.map(R::Id::from), limit).await?;
    caller.commit().await?;
    let next_after = if items.len() as i64 >= limit {
        items.last().map(R::id_of)
    } else {
        None
    };
    Ok(PhiJson(Page { items, next_after }))
}

async fn create<R: ClinicalRecords>(
    mut caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, PhiJson<R::Record>), ApiError> {
    caller.require(Action::Create, R::RESOURCE)?;
    let record = R::create(&mut caller.tx, body.parse()?).await?;
    caller.commit().await?;
    Ok((StatusCode::CREATED, PhiJson(record)))
}

async fn read<R: ClinicalRecords>(
    mut caller: Caller,
    SafePath(id): SafePath<R::Id>,
) -> Result<PhiJson<R::Record>, ApiError> {
    caller.require(Action::Read, R::RESOURCE)?;
    let record = R::read(&mut caller.tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    caller.commit().await?;
    Ok(PhiJson(record))
}

async fn update<R: ClinicalRecords>(
    mut caller: Caller,
    SafePath(id): SafePath<R::Id>,
    body: JsonBody,
) -> Result<PhiJson<R::Record>, ApiError> {
    caller.require(Action::Update, R::RESOURCE)?;
    let record = R::update(&mut caller.tx, id, body.parse()?)
        .await?
        .ok_or(ApiError::NotFound)?;
    caller.commit().await?;
    Ok(PhiJson(record))
}

async fn remove<R: ClinicalRecords>(
    mut caller: Caller,
    SafePath(id): SafePath<R::Id>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::Delete, R::RESOURCE)?;
    if !R::delete(&mut caller.tx, id).await? {
        return Err(ApiError::NotFound);
    }
    caller.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find<R: ClinicalRecords>(
    mut caller: Caller,
    body: JsonBody,
) -> Result<PhiJson<Vec<R::Record>>, ApiError> {
    caller.require(Action::Read, R::RESOURCE)?;
    let records = R::search(&mut caller.tx, body.parse()?).await?;
    caller.commit().await?;
    Ok(PhiJson(records))
}
