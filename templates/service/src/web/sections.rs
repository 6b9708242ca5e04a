//! The parts of a patient's page that come from the clinical modules: each reads the
//! patient's records through the module's own search ([`ClinicalRecords::search`]), for
//! a role the access matrix lets read them, and records one `search` event per record
//! shown, as `POST /{module}/search` does (HIPAA 164.312(b)). A role that may not read a
//! module gets no section at all, rather than a refusal: the page shows what the role may
//! see (HIPAA 164.502(b) minimum necessary).

use askama::Template;
use serde::Serialize;
use serde_json::json;

use super::page::Section;
use super::resource_pages::RecordForm;
use crate::audit::{AuditAction, Event};
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::ids::{PatientId, to_uuid};
use crate::models::ClinicalRecords;
use crate::request::JsonBody;

/// `patient`'s records of `R`, or `None` when the caller's role may not read them.
pub async fn records_of<R: ClinicalRecords>(
    caller: &mut Caller,
    patient: PatientId,
) -> Result<Option<Vec<R::Record>>, ApiError> {
    if !caller.user.role.may(Action::Read, R::RESOURCE) {
        return Ok(None);
    }
    // Every module's search is by patient, as its API route takes it.
    let search: R::Search =
        JsonBody::from_value(&json!({ "patient_id": patient.to_string() })).parse()?;
    let records = R::search(&mut caller.tx, &caller.keys, search).await?;
    let ids = records.iter().map(|record| to_uuid(R::id_of(record)));
    caller
        .record(&Event::each(AuditAction::Search, R::RESOURCE.table(), ids))
        .await?;
    Ok(Some(records))
}

/// A table of a module's records on a patient's page (or on a resource's own page), with
/// the form of a new one when there is one.
#[derive(Template)]
#[template(path = "records.html")]
pub struct RecordsSection {
    /// The section's `id`, a fragment to link to.
    pub anchor: &'static str,
    pub title: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    /// The form of a new record, for a role that may create one.
    pub form: Option<RecordForm>,
}

impl RecordsSection {
    pub fn into_section(self) -> Result<Section, ApiError> {
        let html = self.render().map_err(|_| ApiError::Internal)?;
        Ok(Section { html })
    }
}

/// How the pages write a moment.
pub const TIME: &str = "%Y-%m-%d %H:%M UTC";

/// The name a code (an enum such as an encounter's class) has in the API.
pub fn code_name(code: &impl Serialize) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
