//! `/encounters`: the routes of [`resource`](super::resource) over
//! [`Encounters`](crate::models::encounter::Encounters).

use super::resource;
use crate::models::encounter::Encounters;

pub fn routes() -> Vec<super::Route> {
    resource::routes::<Encounters>("/encounters", "/encounters/{id}", "/encounters/search")
}
