#![deny(warnings)]

use axum::Router;
use axum::routing::get;
use phi_guard::{OpaqueId, SafePath, SafeQuery, SafeUrl, UrlSafe};
use serde::Deserialize;

phi_guard::opaque_id! {
    /// A patient, as URLs and logs know it.
    pub struct PatientId;
}

phi_guard::opaque_id! {
    /// An encounter of a patient.
    pub struct EncounterId;
}

#[derive(Deserialize, UrlSafe)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Newest,
    Oldest,
}

/// Private field types in a public struct do not make the derived bounds warn.
#[derive(Deserialize, UrlSafe)]
pub struct Paging {
    page: Option<u32>,
    order: Option<Order>,
    cursor: Option<Cursor>,
}

#[derive(Deserialize)]
struct Cursor(u64);

// Written by hand on purpose: a reviewed claim that this type holds no PHI.
impl UrlSafe for Cursor {}

#[derive(UrlSafe)]
pub struct Wrapper<T>(T);

async fn show(SafePath(id): SafePath<PatientId>) -> String {
    SafeUrl::new("/patients").segment(id).into_string()
}

async fn encounter(
    SafePath((patient, encounter)): SafePath<(PatientId, EncounterId)>,
    SafeQuery(paging): SafeQuery<Paging>,
) -> String {
    let _ = (paging.order, paging.cursor.map(|cursor| cursor.0));
    SafeUrl::new("/patients")
        .segment(patient)
        .segment("encounters".len())
        .segment(encounter)
        .query("page", paging.page.unwrap_or(1))
        .into_string()
}

async fn by_raw_id(SafePath(id): SafePath<OpaqueId>) -> String {
    id.to_string()
}

fn assert_url_safe<T: UrlSafe>() {}

fn main() {
    assert_url_safe::<Wrapper<u32>>();
    let _app: Router = Router::new()
        .route("/patients/{id}", get(show))
        .route("/patients/{patient}/encounters/{encounter}", get(encounter))
        .route("/ids/{id}", get(by_raw_id));
}
