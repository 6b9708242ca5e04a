//! `/appointments`: the routes of [`resource`](super::resource) over
//! [`Appointments`](crate::models::appointment::Appointments).

use axum::Router;

use super::resource;
use crate::models::appointment::Appointments;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    resource::routes::<Appointments>(
        "/appointments",
        "/appointments/{id}",
        "/appointments/search",
    )
}
