//! `GET /openapi.json` (SPEC 4.1): an OpenAPI 3.1 description of every route the service
//! serves, built from [`routes`](super::routes), the same list the router is built from, so
//! the two cannot drift apart.
//!
//! The URL carries nothing but opaque ids (`{id}`, a UUID) and paging (`after`, `limit`):
//! PHI travels in JSON bodies only. PHI fields are marked `"x-phi": true`.

use axum::Json;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Doc, Route};

/// The session cookie (`__Host-` prefixed, HttpOnly, Secure, SameSite=Strict).
pub const COOKIE_SCHEME: &str = "sessionCookie";
/// The same session as `Authorization: Bearer`, for API clients.
pub const BEARER_SCHEME: &str = "bearer";

pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/openapi.json",
        get(serve),
        Doc {
            summary: "this OpenAPI description of the whole API",
            public: true,
            request: None,
            status: 200,
            response: Some("OpenApi"),
            paged: false,
        },
    )]
}

async fn serve() -> Response {
    let mut response = Json(document()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The OpenAPI document of [`routes`](super::routes).
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in super::routes() {
        let entry = paths
            .entry(route.path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(operations) = entry {
            operations.insert(
                route.method.as_str().to_ascii_lowercase(),
                operation(route.path, &route.doc),
            );
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": env!("CARGO_PKG_NAME"),
            "version": env!("CARGO_PKG_VERSION"),
            "description": env!("CARGO_PKG_DESCRIPTION")
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                COOKIE_SCHEME: {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::auth::session::COOKIE_NAME
                },
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the session token, from a login with `x-session-transport: bearer`"
                }
            },
            "schemas": schemas()
        },
        "security": [
            { COOKIE_SCHEME: [] },
            { BEARER_SCHEME: [] }
        ]
    })
}

fn operation(path: &str, doc: &Doc) -> Value {
    let mut parameters = Vec::new();
    for segment in path.split('/') {
        if let Some(name) = segment
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        {
            parameters.push(json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": "an opaque id",
                "schema": uuid()
            }));
        }
    }
    if doc.paged {
        // The audit trail pages by sequence number, the clinical resources by record id.
        let after = if path.starts_with("/audit") {
            json!({ "type": "integer", "format": "int64" })
        } else {
            uuid()
        };
        parameters.push(json!({
            "name": "after",
            "in": "query",
            "required": false,
            "description": "continue after this one (the previous page's `next_after`)",
            "schema": after
        }));
        parameters.push(json!({
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "how many per page",
            "schema": { "type": "integer", "minimum": 1, "maximum": crate::models::MAX_PAGE }
        }));
    }
    let mut responses = Map::new();
    let success = match doc.response {
        Some(name) => json!({
            "description": doc.summary,
            "content": {
                media_type(name): { "schema": reference(name) }
            }
        }),
        None => json!({ "description": doc.summary }),
    };
    responses.insert(doc.status.to_string(), success);
    responses.insert(
        "default".to_owned(),
        json!({
            "description": "an error",
            "content": {
                "application/json": { "schema": reference("Error") }
            }
        }),
    );
    let mut operation = Map::new();
    operation.insert("summary".to_owned(), json!(doc.summary));
    if !parameters.is_empty() {
        operation.insert("parameters".to_owned(), Value::Array(parameters));
    }
    if let Some(name) = doc.request {
        operation.insert(
            "requestBody".to_owned(),
            json!({
                "required": true,
                "content": {
                    "application/json": { "schema": reference(name) }
                }
            }),
        );
    }
    operation.insert("responses".to_owned(), Value::Object(responses));
    if doc.public {
        operation.insert("security".to_owned(), json!([]));
    }
    Value::Object(operation)
}

fn media_type(schema: &str) -> &'static str {
    if schema == "FhirBundle" {
        "application/fhir+json"
    } else {
        "application/json"
    }
}

/// `#/components/schemas/{name}`.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn integer() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

fn date_time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

/// A PHI field: `schema`, flagged.
fn phi(mut schema: Value) -> Value {
    if let Value::Object(fields) = &mut schema {
        fields.insert("x-phi".to_owned(), Value::Bool(true));
    }
    schema
}

fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn choice(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// An object of `properties`; `required` of them must be there. No other field is
/// accepted or returned.
fn object(required: &[&str], properties: &[(&str, Value)]) -> Value {
    let properties: Map<String, Value> = properties
        .iter()
        .map(|(name, schema)| ((*name).to_owned(), schema.clone()))
        .collect();
    json!({
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": false
    })
}

/// A page of `record`s; `next_after` continues it.
fn page(record: &str) -> Value {
    object(
        &["items", "next_after"],
        &[
            ("items", array(reference(record))),
            ("next_after", nullable(uuid())),
        ],
    )
}

/// Every schema a route refers to.
fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    let mut add = |name: &str, schema: Value| {
        schemas.insert(name.to_owned(), schema);
    };
    add("Error", object(&["error"], &[("error", string())]));
    add(
        "Health",
        object(&["status"], &[("status", choice(&["ok"]))]),
    );
    add(
        "OpenApi",
        json!({ "type": "object", "description": "this document" }),
    );
    add(
        "LoginRequest",
        object(
            &["email", "password"],
            &[
                ("email", json!({ "type": "string", "format": "email" })),
                (
                    "password",
                    json!({ "type": "string", "format": "password" }),
                ),
            ],
        ),
    );
    add("MfaRequest", object(&["code"], &[("code", string())]));
    add(
        "Session",
        object(
            &["mfa_required"],
            &[("mfa_required", boolean()), ("token", string())],
        ),
    );
    add(
        "Me",
        object(
            &["user_id", "email", "role", "clinic_id", "clinic_name"],
            &[
                ("user_id", uuid()),
                ("email", string()),
                ("role", choice(&["admin", "clinician", "staff", "auditor"])),
                ("clinic_id", uuid()),
                ("clinic_name", string()),
            ],
        ),
    );
    add(
        "AuditEvent",
        object(
            &[
                "id",
                "seq",
                "occurred_at",
                "actor_user_id",
                "actor_role",
                "action",
                "resource_type",
                "resource_id",
                "outcome",
                "request_id",
                "source_address",
                "prev_hash",
                "hash",
            ],
            &[
                ("id", uuid()),
                ("seq", integer()),
                ("occurred_at", date_time()),
                ("actor_user_id", nullable(uuid())),
                ("actor_role", nullable(string())),
                ("action", string()),
                ("resource_type", nullable(string())),
                ("resource_id", nullable(uuid())),
                ("outcome", string()),
                ("request_id", nullable(uuid())),
                ("source_address", nullable(string())),
                ("prev_hash", string()),
                ("hash", string()),
            ],
        ),
    );
    add(
        "AuditPage",
        object(
            &["items", "next_after"],
            &[
                ("items", array(reference("AuditEvent"))),
                ("next_after", nullable(integer())),
            ],
        ),
    );
    add(
        "FhirBundle",
        json!({
            "type": "object",
            "description": "a FHIR R4 Bundle (type collection) of AuditEvent resources",
            "required": ["resourceType", "type", "total", "entry"],
            "properties": {
                "resourceType": { "const": "Bundle" },
                "type": { "const": "collection" },
                "total": { "type": "integer" },
                "entry": { "type": "array", "items": { "type": "object" } }
            }
        }),
    );
    add(
        "ChainVerification",
        object(
            &["ok", "events_checked", "broken"],
            &[
                ("ok", boolean()),
                ("events_checked", integer()),
                (
                    "broken",
                    nullable(object(
                        &["seq", "event_id", "reason"],
                        &[
                            ("seq", integer()),
                            ("event_id", nullable(uuid())),
                            ("reason", string()),
                        ],
                    )),
                ),
            ],
        ),
    );
    let timestamps = [("created_at", date_time()), ("updated_at", date_time())];
    let date = json!({ "type": "string", "format": "date" });
    add(
        "Patient",
        object(
            &[
                "id",
                "mrn",
                "given_name",
                "family_name",
                "date_of_birth",
                "phone",
                "created_at",
                "updated_at",
            ],
            &[
                ("id", uuid()),
                ("mrn", phi(string())),
                ("given_name", phi(string())),
                ("family_name", phi(string())),
                ("date_of_birth", phi(date.clone())),
                ("phone", phi(nullable(string()))),
                timestamps[0].clone(),
                timestamps[1].clone(),
            ],
        ),
    );
    add(
        "NewPatient",
        object(
            &["mrn", "given_name", "family_name", "date_of_birth"],
            &[
                ("mrn", phi(string())),
                ("given_name", phi(string())),
                ("family_name", phi(string())),
                ("date_of_birth", phi(date.clone())),
                ("phone", phi(nullable(string()))),
            ],
        ),
    );
    add(
        "PatientChanges",
        object(
            &[],
            &[
                ("mrn", phi(string())),
                ("given_name", phi(string())),
                ("family_name", phi(string())),
                ("date_of_birth", phi(date.clone())),
                ("phone", phi(nullable(string()))),
            ],
        ),
    );
    add(
        "PatientSearch",
        object(
            &[],
            &[
                ("mrn", phi(string())),
                ("given_name", phi(string())),
                ("family_name", phi(string())),
                ("date_of_birth", phi(date)),
            ],
        ),
    );
    add("PatientPage", page("Patient"));
    add("PatientList", array(reference("Patient")));
    add(
        "RestrictionChange",
        object(
            &["restricted"],
            &[("restricted", boolean()), ("care_team", array(uuid()))],
        ),
    );
    add(
        "Restriction",
        object(
            &["patient_id", "restricted", "care_team"],
            &[
                ("patient_id", uuid()),
                ("restricted", boolean()),
                ("care_team", array(uuid())),
            ],
        ),
    );
    add(
        "BreakGlassRequest",
        object(
            &["patient_id", "reason"],
            &[
                ("patient_id", uuid()),
                (
                    "reason",
                    phi(json!({ "type": "string", "minLength": 20, "maxLength": 2000 })),
                ),
            ],
        ),
    );
    add(
        "EmergencyGrant",
        object(
            &["id", "patient_id", "expires_at"],
            &[
                ("id", uuid()),
                ("patient_id", uuid()),
                ("expires_at", date_time()),
            ],
        ),
    );
    add(
        "EmergencyAccess",
        object(
            &[
                "id",
                "patient_id",
                "user_id",
                "reason",
                "granted_at",
                "expires_at",
                "reviewed_at",
                "reviewed_by",
            ],
            &[
                ("id", uuid()),
                ("patient_id", uuid()),
                ("user_id", uuid()),
                ("reason", phi(string())),
                ("granted_at", date_time()),
                ("expires_at", date_time()),
                ("reviewed_at", nullable(date_time())),
                ("reviewed_by", nullable(uuid())),
            ],
        ),
    );
    add("EmergencyAccessPage", page("EmergencyAccess"));
{%- if modules contains "encounters" %}
    let class = choice(&["ambulatory", "emergency", "inpatient", "virtual"]);
    add(
        "Encounter",
        object(
            &[
                "id",
                "patient_id",
                "class",
                "reason",
                "started_at",
                "ended_at",
                "created_by",
                "created_at",
                "updated_at",
            ],
            &[
                ("id", uuid()),
                ("patient_id", uuid()),
                ("class", phi(class.clone())),
                ("reason", phi(nullable(string()))),
                ("started_at", phi(date_time())),
                ("ended_at", phi(nullable(date_time()))),
                ("created_by", uuid()),
                timestamps[0].clone(),
                timestamps[1].clone(),
            ],
        ),
    );
    add(
        "NewEncounter",
        object(
            &["patient_id", "class", "started_at"],
            &[
                ("patient_id", uuid()),
                ("class", phi(class.clone())),
                ("reason", phi(nullable(string()))),
                ("started_at", phi(date_time())),
                ("ended_at", phi(nullable(date_time()))),
            ],
        ),
    );
    add(
        "EncounterChanges",
        object(
            &[],
            &[
                ("class", phi(class)),
                ("reason", phi(nullable(string()))),
                ("started_at", phi(date_time())),
                ("ended_at", phi(nullable(date_time()))),
            ],
        ),
    );
    add(
        "EncounterSearch",
        object(&["patient_id"], &[("patient_id", uuid())]),
    );
    add("EncounterPage", page("Encounter"));
    add("EncounterList", array(reference("Encounter")));
{%- endif %}
{%- if modules contains "appointments" %}
    let status = choice(&["booked", "cancelled", "fulfilled", "noshow"]);
    add(
        "Appointment",
        object(
            &[
                "id",
                "patient_id",
                "starts_at",
                "ends_at",
                "status",
                "reason",
                "created_at",
                "updated_at",
            ],
            &[
                ("id", uuid()),
                ("patient_id", uuid()),
                ("starts_at", phi(date_time())),
                ("ends_at", phi(date_time())),
                ("status", status.clone()),
                ("reason", phi(nullable(string()))),
                timestamps[0].clone(),
                timestamps[1].clone(),
            ],
        ),
    );
    add(
        "NewAppointment",
        object(
            &["patient_id", "starts_at", "ends_at"],
            &[
                ("patient_id", uuid()),
                ("starts_at", phi(date_time())),
                ("ends_at", phi(date_time())),
                ("reason", phi(nullable(string()))),
            ],
        ),
    );
    add(
        "AppointmentChanges",
        object(
            &[],
            &[
                ("starts_at", phi(date_time())),
                ("ends_at", phi(date_time())),
                ("status", status),
                ("reason", phi(nullable(string()))),
            ],
        ),
    );
    add(
        "AppointmentSearch",
        object(&["patient_id"], &[("patient_id", uuid())]),
    );
    add("AppointmentPage", page("Appointment"));
    add("AppointmentList", array(reference("Appointment")));
{%- endif %}
{%- if modules contains "notes" %}
    add(
        "Note",
        object(
            &[
                "id",
                "patient_id",
                "body",
                "author_id",
                "created_at",
                "updated_at",
            ],
            &[
                ("id", uuid()),
                ("patient_id", uuid()),
                ("body", phi(string())),
                ("author_id", uuid()),
                timestamps[0].clone(),
                timestamps[1].clone(),
            ],
        ),
    );
    add(
        "NewNote",
        object(
            &["patient_id", "body"],
            &[("patient_id", uuid()), ("body", phi(string()))],
        ),
    );
    add("NoteChanges", object(&["body"], &[("body", phi(string()))]));
    add(
        "NoteSearch",
        object(&["patient_id"], &[("patient_id", uuid())]),
    );
    add("NotePage", page("Note"));
    add("NoteList", array(reference("Note")));
{%- endif %}
    schemas
}
