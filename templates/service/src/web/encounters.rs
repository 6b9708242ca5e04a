//! A patient's encounters, on the patient's page, for the roles that read them.

use super::page::Section;
use super::sections::{RecordsSection, TIME, code_name, records_of};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PatientId;
use crate::models::encounter::Encounters;

pub async fn section(caller: &mut Caller, patient: PatientId) -> Result<Option<Section>, ApiError> {
    let Some(encounters) = records_of::<Encounters>(caller, patient).await? else {
        return Ok(None);
    };
    let rows = encounters
        .iter()
        .map(|encounter| {
            vec![
                encounter.started_at.expose().format(TIME).to_string(),
                encounter
                    .ended_at
                    .expose()
                    .map(|at| at.format(TIME).to_string())
                    .unwrap_or_else(|| "ongoing".to_owned()),
                code_name(encounter.class.expose()),
                encounter.reason.expose().clone().unwrap_or_default(),
            ]
        })
        .collect();
    RecordsSection {
        anchor: "encounters",
        title: "Encounters",
        columns: &["Started", "Ended", "Class", "Reason"],
        rows,
        form: None,
    }
    .into_section()
    .map(Some)
}
