//! `GET /healthz`: liveness for load balancers and orchestrators.
//!
//! It answers without authentication, so it says nothing but "ok": no version, no
//! configuration, no data.

use axum::{Json, Router, routing::get};
use serde::Serialize;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}
