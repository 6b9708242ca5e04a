//! `/notes`: the routes of [`resource`](super::resource) over
//! [`Notes`](crate::models::note::Notes).

use axum::Router;

use super::resource;
use crate::models::note::Notes;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    resource::routes::<Notes>("/notes", "/notes/{id}", "/notes/search")
}
