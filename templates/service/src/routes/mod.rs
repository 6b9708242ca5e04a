//! HTTP routes, one module per resource. Each module exposes `router()`, and this one
//! merges them.

use axum::Router;

pub mod health;

/// Every route the service serves.
pub fn router() -> Router {
    Router::new().merge(health::router())
}
