//! A patient's appointments, on the patient's page, for the roles that read them.

use super::page::Section;
use super::sections::{RecordsSection, TIME, code_name, records_of};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PatientId;
use crate::models::appointment::Appointments;

pub async fn section(caller: &mut Caller, patient: PatientId) -> Result<Option<Section>, ApiError> {
    let Some(appointments) = records_of::<Appointments>(caller, patient).await? else {
        return Ok(None);
    };
    let rows = appointments
        .iter()
        .map(|appointment| {
            vec![
                appointment.starts_at.expose().format(TIME).to_string(),
                appointment.ends_at.expose().format(TIME).to_string(),
                code_name(&appointment.status),
                appointment.reason.expose().clone().unwrap_or_default(),
            ]
        })
        .collect();
    RecordsSection {
        anchor: "appointments",
        title: "Appointments",
        columns: &["Starts", "Ends", "Status", "Reason"],
        rows,
        form: None,
    }
    .into_section()
    .map(Some)
}
