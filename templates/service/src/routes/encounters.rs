//! `/encounters`: the routes of [`resource`](super::resource) over
//! [`Encounters`](crate::models::encounter::Encounters).

use axum::Router;

use super::resource;
use crate::models::encounter::Encounters;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    resource::routes::<Encounters>("/encounters", "/encounters/{id}", "/encounters/search")
}
