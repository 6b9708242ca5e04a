//! `/patients`: the routes of [`resource`](super::resource) over
//! [`Patients`](crate::models::patient::Patients).

use axum::Router;

use super::resource;
use crate::models::patient::Patients;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    resource::routes::<Patients>("/patients", "/patients/{id}", "/patients/search")
}
