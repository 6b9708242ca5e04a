//! What the pages of the resources added with `medforge add resource` share (README.md,
//! "Adding a resource"): the form of a new record, its fields turned into the request the
//! API's create handler parses, a value as a table cell, and the page of a resource that
//! belongs to no patient. Each added resource's own page module (`src/web/NAME.rs`, from
//! the template's `resource-templates/page.rs.liquid`) declares its fields and calls these.
//!
//! A form is only ever turned into the API's own request type: the API's validation, role
//! matrix and audit events decide, as they do for the built-in pages. A failed form shows
//! the field and the rule it broke, never the value (OWASP ASVS 7.1.1: no PHI in a
//! message that may be logged or screenshotted).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde_json::{Map, Value};

use super::form::Fields;
use super::page::{self, Chrome, PageError};
use crate::error::ApiError;
use crate::models::fields::FieldValue;
use crate::request::JsonBody;

/// How a field is typed into its form: one per field type of `medforge add resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    DateTime,
    Integer,
    Decimal,
    Boolean,
    /// One of a list of values.
    Code(&'static [&'static str]),
}

/// A field of a resource's form and table.
#[derive(Debug)]
pub struct Input {
    /// The API's name of the field, and the form's.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub required: bool,
}

impl Input {
    /// The `type` of its `<input>`, for a field typed on one line.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Date => "date",
            Kind::DateTime => "datetime-local",
            Kind::Integer => "number",
            _ => "text",
        }
    }

    pub fn is_checkbox(&self) -> bool {
        self.kind == Kind::Boolean
    }

    pub fn is_integer(&self) -> bool {
        self.kind == Kind::Integer
    }

    /// The values a code field offers; none for any other field.
    pub fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Code(values) => values,
            _ => &[],
        }
    }
}

/// The form of a new record, under a resource's table.
pub struct RecordForm {
    /// Where it posts: a path of ids only.
    pub action: String,
    /// The session's form token ([`super::csrf`]).
    pub csrf: String,
    /// The record in prose: `prescription`.
    pub word: &'static str,
    pub inputs: &'static [Input],
}

/// The form `fields` as the JSON object the API's request type for `inputs` reads, with
/// `extra` (the patient's id, from the path) beside them. Each value goes in the JSON type
/// its field takes, and a value that is not one (letters in a number) goes as text, so the
/// API's own rules refuse it. A blank field is left out: the request type's "is required",
/// or no value. A checkbox is `true` when ticked and `false` otherwise, as a form sends
/// nothing for an unticked one. Any other field of the form is ignored, so a form cannot
/// set what its page does not show.
pub fn to_json(fields: &Fields, inputs: &[Input], extra: Map<String, Value>) -> JsonBody {
    let mut object = extra;
    for input in inputs {
        let text = fields.get(input.name);
        let value = match (input.kind, text) {
            (Kind::Boolean, text) => Value::Bool(text.is_some()),
            (_, None) => continue,
            (Kind::Integer, Some(text)) => text
                .parse::<i64>()
                .map_or_else(|_| Value::String(text.to_owned()), Value::from),
            (Kind::DateTime, Some(text)) => Value::String(moment(text)),
            (_, Some(text)) => Value::String(text.to_owned()),
        };
        object.insert(input.name.to_owned(), value);
    }
    JsonBody::from_value(&Value::Object(object))
}

/// A moment as the API takes it (RFC 3339), from what a `datetime-local` input sends
/// (`2026-12-01T09:30`, no zone: the pages show and take UTC, [`super::sections::TIME`]).
/// Anything else goes as it is, for the API to refuse.
fn moment(text: &str) -> String {
    if DateTime::parse_from_rfc3339(text).is_ok() {
        return text.to_owned();
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map_or_else(
            || text.to_owned(),
            |local| local.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
        )
}

/// A value as its table cell shows it.
pub fn cell<T: FieldValue>(value: &T) -> String {
    value.to_text()
}

/// An optional value as its table cell shows it: empty when there is none.
pub fn optional_cell<T: FieldValue>(value: &Option<T>) -> String {
    value.as_ref().map(cell).unwrap_or_default()
}

/// What a refused form shows: which field broke which rule, and a way back. Any other
/// refusal (the role, a missing patient) is the API's, shown as its page.
pub fn not_saved(
    chrome: &Chrome,
    word: &str,
    error: ApiError,
    back: &str,
) -> Result<Response, PageError> {
    let why = match &error {
        ApiError::InvalidField { field, rule } => format!("The {} {rule}.", words(field)),
        ApiError::Invalid(rule) => format!("The form breaks a rule: {rule}."),
        _ => return Err(error.into()),
    };
    Ok(page::notice(
        chrome,
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("The {word} was not saved"),
        &format!("{why} Go back and change it."),
        back,
    ))
}

/// A field's name in prose: `prescribed_on` as `prescribed on`.
fn words(field: &str) -> String {
    field.replace('_', " ")
}

/// The page of a resource that belongs to no patient: its records, and the form of a new
/// one for a role that may create them.
#[derive(Template)]
#[template(path = "resource.html")]
pub struct ResourcePage<'a> {
    pub chrome: Option<&'a Chrome>,
    pub title: &'static str,
    /// The records, as a section ([`super::sections::RecordsSection`]).
    pub records: String,
    /// The next page's link, when there is one.
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUTS: &[Input] = &[
        Input {
            name: "label",
            label: "Label",
            kind: Kind::Text,
            required: true,
        },
        Input {
            name: "beds",
            label: "Beds",
            kind: Kind::Integer,
            required: false,
        },
        Input {
            name: "open",
            label: "Open",
            kind: Kind::Boolean,
            required: false,
        },
        Input {
            name: "opened_at",
            label: "Opened at",
            kind: Kind::DateTime,
            required: false,
        },
    ];

    fn json_of(body: &str) -> Value {
        let fields = Fields::parse(body.as_bytes()).unwrap();
        to_json(&fields, INPUTS, Map::new()).parse().unwrap()
    }

    #[test]
    fn a_form_goes_to_the_api_in_the_json_types_of_its_fields() {
        let json = json_of("label=Ward+3&beds=12&open=on&opened_at=2026-12-01T09%3A30");
        assert_eq!(
            json,
            serde_json::json!({
                "label": "Ward 3", "beds": 12, "open": true,
                "opened_at": "2026-12-01T09:30:00Z"
            })
        );
    }

    #[test]
    fn blank_fields_are_left_out_and_an_unticked_box_is_false() {
        let json = json_of("label=&beds=+&opened_at=");
        assert_eq!(json, serde_json::json!({ "open": false }));
    }

    #[test]
    fn a_value_of_the_wrong_kind_goes_as_text_for_the_api_to_refuse() {
        let json = json_of("label=x&beds=twelve&opened_at=yesterday");
        assert_eq!(json["beds"], "twelve");
        assert_eq!(json["opened_at"], "yesterday");
    }

    #[test]
    fn fields_the_page_does_not_show_are_ignored() {
        let json = json_of("label=x&clinic_id=00000000-0000-0000-0000-000000000000");
        assert!(json.get("clinic_id").is_none());
    }
}
