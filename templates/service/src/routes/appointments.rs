//! `/appointments`: the routes of [`resource`](super::resource) over
//! [`Appointments`](crate::models::appointment::Appointments).

use super::resource;
use crate::models::appointment::Appointments;

pub fn routes() -> Vec<super::Route> {
    resource::routes::<Appointments>(
        "/appointments",
        "/appointments/{id}",
        "/appointments/search",
    )
}
