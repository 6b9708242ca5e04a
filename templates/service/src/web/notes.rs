//! A patient's notes, on the patient's page, for the one role that reads them
//! (clinicians: the minimum necessary, HIPAA 164.502(b)); and the form that adds one,
//! through the API's own create handler.

use askama::Template;
use axum::Router;
use axum::response::Response;
use axum::routing::post;
use phi_guard::SafePath;
use serde_json::json;

use super::page::{self, PageError, Section};
use super::sections::{TIME, records_of};
use super::viewer::{Posted, Viewer};
use crate::auth::{Action, Caller, Resource};
use crate::error::ApiError;
use crate::ids::PatientId;
use crate::models::note::Notes;
use crate::request::JsonBody;
use crate::routes::resource;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/app/patients/{id}/notes", post(add))
}

/// A note as the section shows it.
pub struct NoteView {
    pub written: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "notes.html")]
struct NotesSection<'a> {
    patient_id: String,
    notes: Vec<NoteView>,
    csrf: &'a str,
    may_write: bool,
}

/// The notes section of `patient`'s page, for a role that may read notes; each note
/// shown is a read on the record, as a search through the API is.
pub async fn section(
    caller: &mut Caller,
    patient: PatientId,
    csrf: &str,
) -> Result<Option<Section>, ApiError> {
    let role = caller.user.role;
    let Some(notes) = records_of::<Notes>(caller, patient).await? else {
        return Ok(None);
    };
    let html = NotesSection {
        patient_id: patient.to_string(),
        notes: notes
            .iter()
            .map(|note| NoteView {
                written: note.created_at.format(TIME).to_string(),
                body: note.body.expose().clone(),
            })
            .collect(),
        csrf,
        may_write: role.may(Action::Create, Resource::Notes),
    }
    .render()
    .map_err(|_| ApiError::Internal)?;
    Ok(Some(Section { html }))
}

async fn add(
    SafePath(patient): SafePath<PatientId>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, .. } = viewer;
    let body = JsonBody::from_value(&json!({
        "patient_id": patient.to_string(),
        "body": fields.get("body").unwrap_or_default(),
    }));
    match resource::create::<Notes>(caller, body).await {
        Ok(_) => Ok(page::see_other(&format!("/app/patients/{patient}#notes"))),
        Err(ApiError::InvalidField { .. } | ApiError::Invalid(_)) => Ok(page::error_page(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "The note was not saved",
            "A note needs some text, and at most the length the service allows. Go back and \
             change it.",
        )),
        Err(error) => Err(error.into()),
    }
}
