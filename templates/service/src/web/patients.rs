//! The patients' pages: the paged list, the exact-match search (POSTed: the criteria are
//! PHI and stay out of the URL), a patient's page with the sections of the enabled
//! modules the role may read, create and edit with the API's validation, and break-glass
//! for a restricted patient (a mandatory reason, then a banner while the grant lasts).
//!
//! List, search, create, update and break-glass are the API's own handlers
//! ([`resource`], [`emergency_access`]), called with the form as their body; the
//! patient's page reads through the same model functions and records the same events.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use phi_guard::{SafePath, SafeQuery};
use serde_json::json;

use super::form::Fields;
use super::page::{self, Chrome, PageError, Section};
use super::viewer::{Posted, Viewer};
use crate::audit::{AuditAction, Event, Outcome};
use crate::auth::{Action, Resource};
use crate::error::ApiError;
use crate::ids::{PatientId, to_uuid};
use crate::models::ClinicalRecords;
use crate::models::patient::{Patient, Patients};
use crate::models::restriction::{self, Standing};
use crate::routes::emergency_access;
use crate::routes::resource::{self, Paging};
use crate::state::AppState;

/// The fields of the patient form, as the API's `NewPatient` and `PatientChanges` name them.
const FIELDS: [&str; 5] = ["mrn", "given_name", "family_name", "date_of_birth", "phone"];

/// The patients' pages' place in the navigation bar.
const PATIENTS: &str = "/app/patients";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATIENTS, get(list).post(create))
        .route("/app/patients/search", post(search))
        .route("/app/patients/new", get(new_form))
        .route("/app/patients/{id}", get(show).post(update))
        .route("/app/patients/{id}/edit", get(edit_form))
        .route("/app/patients/{id}/break-glass", post(break_glass))
}

/// A patient as a row of the list.
pub struct Row {
    pub id: String,
    pub mrn: String,
    pub name: String,
    pub date_of_birth: String,
}

impl Row {
    fn of(patient: &Patient) -> Self {
        Self {
            id: patient.id.to_string(),
            mrn: patient.mrn.expose().clone(),
            name: format!(
                "{}, {}",
                patient.family_name.expose(),
                patient.given_name.expose()
            ),
            date_of_birth: patient.date_of_birth.expose().to_string(),
        }
    }
}

/// What the search form holds, to show it again with the results.
#[derive(Default)]
pub struct Criteria {
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct ListPage<'a> {
    chrome: Option<&'a Chrome>,
    rows: Vec<Row>,
    /// The next page's link, when there is one.
    next: Option<String>,
    /// Search results (`rows` are the matches) rather than a page of the list.
    searched: bool,
    criteria: Criteria,
    problem: Option<&'a str>,
    may_create: bool,
}

async fn list(viewer: Viewer, SafeQuery(paging): SafeQuery<Paging>) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let may_create = chrome.role.may(Action::Create, Resource::Patients);
    let page_of = resource::list::<Patients>(caller, SafeQuery(paging))
        .await?
        .0;
    let chrome = chrome.at(PATIENTS);
    Ok(page::render(
        StatusCode::OK,
        &ListPage {
            chrome: Some(&chrome),
            rows: page_of.items.iter().map(Row::of).collect(),
            next: page_of
                .next_after
                .map(|after| format!("{PATIENTS}?after={after}")),
            searched: false,
            criteria: Criteria::default(),
            problem: None,
            may_create,
        },
    ))
}

async fn search(Posted { viewer, fields }: Posted) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let may_create = chrome.role.may(Action::Create, Resource::Patients);
    let criteria = Criteria {
        mrn: fields.get("mrn").unwrap_or_default().to_owned(),
        given_name: fields.get("given_name").unwrap_or_default().to_owned(),
        family_name: fields.get("family_name").unwrap_or_default().to_owned(),
        date_of_birth: fields.get("date_of_birth").unwrap_or_default().to_owned(),
    };
    let body = fields.to_json(&["mrn", "given_name", "family_name", "date_of_birth"], &[]);
    let chrome = chrome.at(PATIENTS);
    let (rows, problem, status) = match resource::find::<Patients>(caller, body).await {
        Ok(found) => (found.0.iter().map(Row::of).collect(), None, StatusCode::OK),
        Err(ApiError::Invalid(rule) | ApiError::InvalidField { rule, .. }) => (
            Vec::new(),
            Some(search_problem(rule)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(error) => return Err(error.into()),
    };
    Ok(page::render(
        status,
        &ListPage {
            chrome: Some(&chrome),
            rows,
            next: None,
            searched: true,
            criteria,
            problem,
            may_create,
        },
    ))
}

/// What the search page says about criteria the search refused.
fn search_problem(rule: &'static str) -> &'static str {
    if rule.contains("format") {
        "A date of birth is written as YYYY-MM-DD."
    } else {
        "Search by record number, or by family name, given name and date of birth together."
    }
}

/// The patient form, new or filled in.
#[derive(Template)]
#[template(path = "patient_form.html")]
struct FormPage<'a> {
    chrome: Option<&'a Chrome>,
    /// `None` for a new patient.
    id: Option<String>,
    fields: Vec<FormField>,
    /// What the form as a whole says: a refusal not about one field, or where to look.
    problem: Option<String>,
}

/// One input of the patient form.
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    /// The input's `type`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    /// The rule the value broke, shown next to it.
    pub error: Option<String>,
}

impl<'a> FormPage<'a> {
    fn new(
        chrome: &'a Chrome,
        id: Option<PatientId>,
        values: Values,
        problem: Option<Problem>,
    ) -> Self {
        let error_of = |name: &str| {
            problem
                .as_ref()
                .filter(|problem| problem.field == name)
                .map(|problem| problem.message.clone())
        };
        let field = |name, label, kind, value, required| FormField {
            name,
            label,
            kind,
            value,
            required,
            error: error_of(name),
        };
        let fields = vec![
            field("mrn", "Record number", "text", values.mrn, true),
            field("given_name", "Given name", "text", values.given_name, true),
            field(
                "family_name",
                "Family name",
                "text",
                values.family_name,
                true,
            ),
            field(
                "date_of_birth",
                "Date of birth",
                "date",
                values.date_of_birth,
                true,
            ),
            field("phone", "Phone (optional)", "tel", values.phone, false),
        ];
        let problem = problem.map(|problem| {
            if problem.field.is_empty() {
                problem.message
            } else {
                "Not saved: check the field marked below.".to_owned()
            }
        });
        Self {
            chrome: Some(chrome),
            id: id.map(|id| id.to_string()),
            fields,
            problem,
        }
    }
}

/// The form's values, as typed or as stored.
#[derive(Default)]
pub struct Values {
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub phone: String,
}

impl Values {
    fn typed(fields: &Fields) -> Self {
        let value = |name| fields.get(name).unwrap_or_default().to_owned();
        Self {
            mrn: value("mrn"),
            given_name: value("given_name"),
            family_name: value("family_name"),
            date_of_birth: value("date_of_birth"),
            phone: value("phone"),
        }
    }

    fn stored(patient: &Patient) -> Self {
        Self {
            mrn: patient.mrn.expose().clone(),
            given_name: patient.given_name.expose().clone(),
            family_name: patient.family_name.expose().clone(),
            date_of_birth: patient.date_of_birth.expose().to_string(),
            phone: patient.phone.expose().clone().unwrap_or_default(),
        }
    }
}

/// Why the form was not saved, next to the field at fault when there is one.
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    /// The page's words for what the API refused: the field and its rule, in a sentence.
    fn of(error: &ApiError) -> Option<Self> {
        let (field, message) = match error {
            ApiError::InvalidField { field, rule } => {
                let message = if field == "date_of_birth" && rule.contains("format") {
                    "Write the date of birth as YYYY-MM-DD.".to_owned()
                } else {
                    format!("{} {rule}.", label(field))
                };
                (field.to_string(), message)
            }
            ApiError::Invalid(rule) => (String::new(), format!("Not saved: {rule}.")),
            ApiError::Conflict => (
                "mrn".to_owned(),
                "This record number is already taken in your clinic.".to_owned(),
            ),
            _ => return None,
        };
        Some(Self { field, message })
    }
}

/// The label of a form field, for messages.
fn label(field: &str) -> &'static str {
    match field {
        "mrn" => "The record number",
        "given_name" => "The given name",
        "family_name" => "The family name",
        "date_of_birth" => "The date of birth",
        "phone" => "The phone number",
        _ => "A field",
    }
}

async fn new_form(viewer: Viewer) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    // The role check the create will make, before showing a form it would refuse.
    let caller = caller
        .require(Action::Create, Resource::Patients, None)
        .await?;
    caller.commit().await?;
    let chrome = chrome.at(PATIENTS);
    Ok(page::render(
        StatusCode::OK,
        &FormPage::new(&chrome, None, Values::default(), None),
    ))
}

async fn create(Posted { viewer, fields }: Posted) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let body = fields.to_json(&FIELDS, &[]);
    match resource::create::<Patients>(caller, body).await {
        Ok((_, created)) => Ok(page::see_other(&format!("{PATIENTS}/{}", created.0.id))),
        Err(error) => match Problem::of(&error) {
            Some(problem) => {
                let chrome = chrome.at(PATIENTS);
                Ok(page::render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &FormPage::new(&chrome, None, Values::typed(&fields), Some(problem)),
                ))
            }
            None => Err(error.into()),
        },
    }
}

async fn edit_form(
    viewer: Viewer,
    SafePath(id): SafePath<PatientId>,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let caller = caller
        .require(Action::Update, Resource::Patients, Some(id.into()))
        .await?;
    let patient = resource::read::<Patients>(caller, SafePath(id)).await?.0;
    let chrome = chrome.at(PATIENTS);
    Ok(page::render(
        StatusCode::OK,
        &FormPage::new(&chrome, Some(id), Values::stored(&patient), None),
    ))
}

async fn update(
    SafePath(id): SafePath<PatientId>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    // Every field of the form is sent; a cleared phone number removes it.
    let body = fields.to_json(&FIELDS, &["phone"]);
    match resource::update::<Patients>(caller, SafePath(id), body).await {
        Ok(_) => Ok(page::see_other(&format!("{PATIENTS}/{id}"))),
        Err(error) => match Problem::of(&error) {
            Some(problem) => {
                let chrome = chrome.at(PATIENTS);
                Ok(page::render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &FormPage::new(&chrome, Some(id), Values::typed(&fields), Some(problem)),
                ))
            }
            None => Err(error.into()),
        },
    }
}

/// A patient's page.
#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage<'a> {
    chrome: Option<&'a Chrome>,
    id: String,
    mrn: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    date_of_birth: &'a NaiveDate,
    phone: Option<&'a str>,
    /// Seen through a break-glass grant: the banner says so.
    emergency: bool,
    may_edit: bool,
    sections: Vec<Section>,
}

/// A patient the caller does not see: the 404 page, and for a role that may break the
/// glass, the form to do it.
#[derive(Template)]
#[template(path = "break_glass.html")]
struct NotSeenPage<'a> {
    chrome: Option<&'a Chrome>,
    id: String,
    may_break_glass: bool,
    problem: Option<&'a str>,
}

async fn show(viewer: Viewer, SafePath(id): SafePath<PatientId>) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(PATIENTS);
    let mut caller = caller
        .require(Action::Read, Resource::Patients, Some(id.into()))
        .await?;
    let patient = Patients::read(&mut caller.tx, &caller.keys, id).await?;
    let outcome = if patient.is_some() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    // HIPAA 164.312(b): the read is on the record as through `GET /patients/{id}`.
    caller
        .record(&[Event::new(AuditAction::Read, outcome)
            .on(Resource::Patients.table(), Some(to_uuid(id)))])
        .await?;
    let Some(patient) = patient else {
        caller.commit().await?;
        return Ok(not_seen(&chrome, id, StatusCode::NOT_FOUND, None));
    };
    let emergency = restriction::standing(&mut caller.tx, id).await? == Standing::BreakGlassOnly;
    let sections = super::patient_sections(&mut caller, id, &chrome.csrf).await?;
    caller.commit().await?;
    Ok(page::render(
        StatusCode::OK,
        &PatientPage {
            chrome: Some(&chrome),
            id: id.to_string(),
            mrn: patient.mrn.expose(),
            given_name: patient.given_name.expose(),
            family_name: patient.family_name.expose(),
            date_of_birth: patient.date_of_birth.expose(),
            phone: patient.phone.expose().as_deref(),
            emergency,
            may_edit: chrome.role.may(Action::Update, Resource::Patients),
            sections,
        },
    ))
}

fn not_seen(chrome: &Chrome, id: PatientId, status: StatusCode, problem: Option<&str>) -> Response {
    page::render(
        status,
        &NotSeenPage {
            chrome: Some(chrome),
            id: id.to_string(),
            may_break_glass: chrome.role.may(Action::Create, Resource::EmergencyAccess),
            problem,
        },
    )
}

async fn break_glass(
    SafePath(id): SafePath<PatientId>,
    Posted { viewer, fields }: Posted,
) -> Result<Response, PageError> {
    let Viewer { caller, chrome } = viewer;
    let chrome = chrome.at(PATIENTS);
    let body = crate::request::JsonBody::from_value(&json!({
        "patient_id": id.to_string(),
        "reason": fields.get("reason").unwrap_or_default(),
    }));
    match emergency_access::break_glass(caller, body).await {
        Ok(_) => Ok(page::see_other(&format!("{PATIENTS}/{id}"))),
        Err(ApiError::InvalidField { rule, .. } | ApiError::Invalid(rule)) => Ok(not_seen(
            &chrome,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(rule),
        )),
        Err(error) => Err(error.into()),
    }
}
