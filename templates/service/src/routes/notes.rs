//! `/notes`: the routes of [`resource`](super::resource) over
//! [`Notes`](crate::models::note::Notes).

use super::resource;
use crate::models::note::Notes;

pub fn routes() -> Vec<super::Route> {
    resource::routes::<Notes>("/notes", "/notes/{id}", "/notes/search")
}
