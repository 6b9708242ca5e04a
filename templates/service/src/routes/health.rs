//! `GET /healthz`: liveness for load balancers and orchestrators.
//!
//! It answers without authentication, so it says nothing but "ok": no version, no
//! configuration, no data.

use axum::Json;
use axum::http::Method;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::Body;
use super::{Doc, Route};

pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/healthz",
        get(healthz),
        Doc {
            summary: "liveness; no data",
            public: true,
            request: None,
            status: 200,
            response: Some(Body::json::<Health>()),
            query: None,
        },
    )]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}
