//! `/patients`: the routes of [`resource`](super::resource) over
//! [`Patients`](crate::models::patient::Patients).

use super::resource;
use crate::models::patient::Patients;

pub fn routes() -> Vec<super::Route> {
    resource::routes::<Patients>("/patients", "/patients/{id}", "/patients/search")
}
