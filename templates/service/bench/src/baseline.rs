//! The baseline of the controls benchmark: a handler in the same service, behind the same
//! middleware and the same session check, that reads the same patient row as
//! `GET /patients/{id}` without the three controls whose cost is measured:
//!
//! - no row-level security context: it reads through a superuser pool, to which the
//!   policies do not apply;
//! - no decryption: it returns the stored ciphertext, base64-encoded;
//! - no audit event: it commits the request's transaction (the session's new idle
//!   deadline, as every request does) without appending one.
//!
//! It exists only in this benchmark's router, never in the service's.

use axum::routing::get;
use axum::{Extension, Json, Router};
use phi_guard::SafePath;
use serde_json::{Value, json};
use sqlx::PgPool;

use ::service::AppState;
use ::service::auth::Caller;
use ::service::error::ApiError;
use ::service::ids::{PatientId, to_uuid};
use ::service::{middleware, routes};

/// Where the baseline handler is served.
pub const PATH: &str = "/bench/unprotected/patients/{id}";

/// Connections that bypass row-level security (a superuser's): the baseline's only way
/// to the row without a clinic context.
#[derive(Clone)]
struct Unscoped(PgPool);

/// The service's router with the baseline route added inside the same layers.
pub fn router(state: AppState, unscoped: PgPool) -> Router {
    let cors_allowed_origins = state.cors_allowed_origins.clone();
    let environment = state.environment;
    let routes = routes::router()
        .route(PATH, get(unprotected_read))
        .layer(Extension(Unscoped(unscoped)))
        .with_state(state);
    middleware::stack(routes, &cors_allowed_origins, environment)
}

async fn unprotected_read(
    caller: Caller,
    Extension(Unscoped(pool)): Extension<Unscoped>,
    SafePath(id): SafePath<PatientId>,
) -> Result<Json<Value>, ApiError> {
    let row: Option<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id::text, encode(mrn, 'base64'), encode(given_name, 'base64'),
                encode(family_name, 'base64'), encode(date_of_birth, 'base64'),
                encode(phone, 'base64')
         FROM patients WHERE id = $1::uuid AND deleted_at IS NULL",
    )
    .bind(to_uuid(id).to_string())
    .fetch_optional(&pool)
    .await?;
    caller.commit().await?;
    let (id, mrn, given_name, family_name, date_of_birth, phone) = row.ok_or(ApiError::NotFound)?;
    Ok(Json(json!({
        "id": id,
        "mrn": mrn,
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": date_of_birth,
        "phone": phone,
    })))
}
