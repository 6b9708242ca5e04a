//! `GET /openapi.json`: a description of exactly the routes the service serves, with
//! nothing but opaque ids and paging in the URL.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{NaiveDate, Utc};
use http_body_util::BodyExt;
use phi_guard::{Phi, PhiJson};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower::ServiceExt;

use ::service::auth::Role;
use ::service::ids::from_uuid;
use ::service::models::MAX_PAGE;
use ::service::models::patient::{NewPatient, Patient, PatientChanges, PatientSearch};
use ::service::routes;

use crate::support::{TestApp, TestDb, offline_app};

/// The document as the service serves it, to anyone.
async fn served_document() -> Value {
    let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let response = offline_app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// Every (method, path) of the document.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

/// Every JSON object in `value`, depth first.
fn objects(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            found.push(map);
            for child in map.values() {
                found.extend(objects(child));
            }
        }
        Value::Array(items) => {
            for child in items {
                found.extend(objects(child));
            }
        }
        _ => {}
    }
    found
}

#[tokio::test]
async fn openapi_is_public_json_with_a_version() {
    let document = served_document().await;
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert!(document["info"]["title"].is_string());

    let schemes = &document["components"]["securitySchemes"];
    let cookie = schemes
        .as_object()
        .unwrap()
        .values()
        .find(|scheme| scheme["in"] == "cookie")
        .unwrap();
    assert_eq!(cookie["name"], "__Host-session");
    assert!(
        schemes
            .as_object()
            .unwrap()
            .values()
            .any(|scheme| scheme["type"] == "http" && scheme["scheme"] == "bearer")
    );

    // Every reference resolves, and every schema is referred to.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut referred = BTreeSet::new();
    for object in objects(&document) {
        if let Some(Value::String(target)) = object.get("$ref") {
            let name = target.strip_prefix("#/components/schemas/").unwrap();
            assert!(schemas.contains_key(name), "{target} does not resolve");
            referred.insert(name.to_owned());
        }
    }
    let defined: BTreeSet<String> = schemas.keys().cloned().collect();
    assert_eq!(defined, referred, "schemas no route refers to");
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let document = served_document().await;
    let described = operations(&document);

    // The router is built from this same list.
    let served: BTreeSet<(String, String)> = routes::routes()
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(described, served);

    // The list holds the routes the README says this configuration serves.
    let mut expected: Vec<(&str, String)> = vec![
        ("GET", "/healthz".to_owned()),
        ("POST", "/auth/login".to_owned()),
        ("POST", "/auth/mfa".to_owned()),
        ("POST", "/auth/logout".to_owned()),
        ("GET", "/me".to_owned()),
        ("GET", "/audit".to_owned()),
        ("GET", "/audit/verify".to_owned()),
        ("GET", "/audit/fhir".to_owned()),
        ("GET", "/openapi.json".to_owned()),
        // Break-glass, with the patients every project has.
        ("PUT", "/patients/{id}/restriction".to_owned()),
        ("POST", "/emergency-access".to_owned()),
        ("GET", "/emergency-access".to_owned()),
        ("POST", "/emergency-access/{id}/review".to_owned()),
        // Accounts: the admins', the token holders', and every account's own.
        ("GET", "/users".to_owned()),
        ("POST", "/users/invitations".to_owned()),
        ("PATCH", "/users/{id}".to_owned()),
        ("POST", "/users/{id}/password-reset".to_owned()),
        ("DELETE", "/users/{id}/sessions".to_owned()),
        ("POST", "/invitations/accept".to_owned()),
        ("POST", "/auth/mfa/enroll".to_owned()),
        ("POST", "/password-reset/complete".to_owned()),
        ("POST", "/me/password".to_owned()),
        ("POST", "/me/mfa/recovery-codes".to_owned()),
        ("GET", "/me/sessions".to_owned()),
        ("DELETE", "/me/sessions/{id}".to_owned()),
    ];
    let modules = "patients{% if modules contains "encounters" %} encounters{% endif %}{% if modules contains "appointments" %} appointments{% endif %}{% if modules contains "notes" %} notes{% endif %}";
    // The resources added with `medforge add resource`, which writes between these lines.
    let added: &[&str] = &[
        // medforge:resource-collections:start
        // medforge:resource-collections:end
    ];
    for module in modules.split(' ').chain(added.iter().copied()) {
        expected.extend([
            ("GET", format!("/{module}")),
            ("POST", format!("/{module}")),
            ("POST", format!("/{module}/search")),
            ("GET", format!("/{module}/{}", "{id}")),
            ("PATCH", format!("/{module}/{}", "{id}")),
            ("DELETE", format!("/{module}/{}", "{id}")),
        ]);
    }
    let expected: BTreeSet<(String, String)> = expected
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect();
    assert_eq!(described, expected);

    // And the service answers each of them: not "no such route", not "wrong method". All
    // at once: a route that reaches for the absent database waits out the pool's timeout.
    let mut answers = tokio::task::JoinSet::new();
    for (method, path) in described {
        let uri = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        answers.spawn(async move {
            let response = offline_app().oneshot(request).await.unwrap();
            (method, uri, response.status())
        });
    }
    while let Some(answer) = answers.join_next().await {
        let (method, uri, status) = answer.unwrap();
        assert_ne!(status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
    }
}

#[tokio::test]
async fn openapi_parameters_are_only_opaque_ids_and_paging() {
    let document = served_document().await;
    let mut seen = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in parameters {
                seen += 1;
                let name = parameter["name"].as_str().unwrap();
                let schema = &parameter["schema"];
                match parameter["in"].as_str().unwrap() {
                    "path" => {
                        assert_eq!(name, "id", "{method} {path}");
                        assert_eq!(schema["format"], "uuid", "{method} {path} {name}");
                        assert!(path.contains("{id}"), "{method} {path}");
                    }
                    "query" => match name {
                        "after" => assert!(
                            schema["format"] == "uuid" || schema["type"] == "integer",
                            "{method} {path}: after is {schema}"
                        ),
                        "limit" => {
                            assert_eq!(schema["type"], "integer", "{method} {path}");
                            assert_eq!(schema["maximum"], MAX_PAGE, "{method} {path}");
                        }
                        other => panic!("{method} {path} takes query parameter {other}"),
                    },
                    other => panic!("{method} {path} takes a {other} parameter {name}"),
                }
            }
            // Every path segment in braces is declared.
            let declared = path.matches('{').count();
            let ids = operation["parameters"].as_array().map_or(0, |parameters| {
                parameters.iter().filter(|p| p["in"] == "path").count()
            });
            assert_eq!(declared, ids, "{method} {path}");
        }
    }
    assert!(seen > 0);
}

/// The property names of schema `name`, which must also be its required ones.
fn schema_fields(document: &Value, name: &str) -> BTreeSet<String> {
    let schema = &document["components"]["schemas"][name];
    let properties: BTreeSet<String> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has no properties"))
        .keys()
        .cloned()
        .collect();
    let required: BTreeSet<String> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        properties, required,
        "{name}: every answered field is always there"
    );
    properties
}

fn fields(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn openapi_response_schemas_have_the_fields_the_service_answers() {
    let document = served_document().await;
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let clinician = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let auditor = app.sign_in(&app.user(clinic, Role::Auditor).await).await;
    let id = app.patient(&clinician, "SYN-O-000001").await;

    let answers = [
        (
            "Me",
            app.call(Method::GET, "/me", Some(&clinician), None).await,
        ),
        (
            "Patient",
            app.call(
                Method::GET,
                &format!("/patients/{id}"),
                Some(&clinician),
                None,
            )
            .await,
        ),
        (
            "PatientPage",
            app.call(Method::GET, "/patients", Some(&clinician), None)
                .await,
        ),
        (
            "AuditPage",
            app.call(Method::GET, "/audit", Some(&auditor), None).await,
        ),
        (
            "ChainVerification",
            app.call(Method::GET, "/audit/verify", Some(&auditor), None)
                .await,
        ),
    ];
    for (schema, reply) in &answers {
        assert_eq!(reply.status, StatusCode::OK, "{schema}");
        assert_eq!(
            fields(&reply.body),
            schema_fields(&document, schema),
            "{schema}"
        );
    }
    let patient = &answers[2].1.body["items"][0];
    assert_eq!(fields(patient), schema_fields(&document, "Patient"));
    let event = &answers[3].1.body["items"][0];
    assert_eq!(fields(event), schema_fields(&document, "AuditEvent"));
}

/// The PHI fields of each schema, as `phi_guard::Phi` marks them in the Rust types; every
/// other schema has none.
fn phi_fields(schema: &str) -> &'static [&'static str] {
    const PATIENT: &[&str] = &["mrn", "given_name", "family_name", "date_of_birth", "phone"];
    match schema {
        "Patient" | "NewPatient" | "PatientChanges" => PATIENT,
        "PatientSearch" => &PATIENT[..4],
        "BreakGlassRequest" | "EmergencyAccess" => &["reason"],
{%- if modules contains "encounters" %}
        "Encounter" | "NewEncounter" | "EncounterChanges" => {
            &["class", "reason", "started_at", "ended_at"]
        }
{%- endif %}
{%- if modules contains "appointments" %}
        "Appointment" | "NewAppointment" | "AppointmentChanges" => {
            &["starts_at", "ends_at", "reason"]
        }
{%- endif %}
{%- if modules contains "notes" %}
        "Note" | "NewNote" | "NoteChanges" => &["body"],
{%- endif %}
        // The resources added with `medforge add resource`, which writes between these lines.
        // medforge:resource-phi-fields:start
        // medforge:resource-phi-fields:end
        _ => &[],
    }
}

#[tokio::test]
async fn openapi_marks_exactly_the_phi_fields() {
    let document = served_document().await;
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let marked: BTreeSet<&str> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, property)| property["x-phi"] == true)
            .map(|(field, _)| field.as_str())
            .collect();
        let expected: BTreeSet<&str> = phi_fields(name).iter().copied().collect();
        assert_eq!(marked, expected, "{name}");
    }
}

#[tokio::test]
async fn openapi_marks_every_phi_column_the_migrations_declare() {
    let columns = TestDb::new().await.phi_columns().await;
    assert!(!columns.is_empty());
    let document = served_document().await;
    for (table, column, _) in &columns {
        let schema = match table.as_str() {
            "patients" => "Patient",
            "encounters" => "Encounter",
            "appointments" => "Appointment",
            "notes" => "Note",
            "emergency_access" => "EmergencyAccess",
            // medforge:resource-schemas:start
            // medforge:resource-schemas:end
            other => panic!("{other} holds PHI: which schema is its record?"),
        };
        let property = &document["components"]["schemas"][schema]["properties"][column];
        assert_eq!(property["x-phi"], true, "{schema}.{column}");
    }
}

/// A value of `schema`'s type, for a request body.
fn sample(schema: &Value) -> Value {
    if let Some(values) = schema["enum"].as_array() {
        return values[0].clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|kind| *kind != "null").unwrap(),
        kind => kind,
    };
    match (kind.as_str().unwrap(), schema["format"].as_str()) {
        ("string", Some("uuid")) => json!("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
        ("string", Some("date")) => json!("1970-01-01"),
        ("string", Some("date-time")) => json!("1970-01-01T00:00:00Z"),
        ("string", _) => json!("synthetic"),
        ("boolean", _) => json!(true),
        ("array", _) => json!([]),
        (other, format) => panic!("no sample of {other} {format:?}"),
    }
}

/// A body of schema `name` with every property parses as `T`, which refuses unknown
/// fields: the schema names no field `T` lacks. Without any one required property it
/// does not: the schema requires what `T` requires.
fn assert_request_schema_is<T: DeserializeOwned>(document: &Value, name: &str) {
    let schema = &document["components"]["schemas"][name];
    assert_eq!(schema["additionalProperties"], false, "{name}");
    let body: serde_json::Map<String, Value> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(field, property)| (field.clone(), sample(property)))
        .collect();
    if let Err(error) = serde_json::from_value::<T>(Value::Object(body.clone())) {
        panic!("{name}: {error}");
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let mut lacking = body.clone();
        lacking.remove(required.as_str().unwrap());
        assert!(
            serde_json::from_value::<T>(Value::Object(lacking)).is_err(),
            "{name} parses without {required}"
        );
    }
}

#[tokio::test]
async fn openapi_schemas_have_the_fields_of_their_types() {
    let document = served_document().await;

    // A Patient as the service writes it has exactly the Patient schema's fields.
    let patient = Patient {
        id: from_uuid(uuid::Uuid::new_v4()),
        mrn: Phi::new("SYN-O-000002".to_owned()),
        given_name: Phi::new("Synthetic".to_owned()),
        family_name: Phi::new("Person".to_owned()),
        date_of_birth: Phi::new(NaiveDate::default()),
        phone: Phi::new(None),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    let body = PhiJson(patient)
        .into_response()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let written: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fields(&written), schema_fields(&document, "Patient"));

    // And the request schemas are those of the types the handlers parse.
    assert_request_schema_is::<NewPatient>(&document, "NewPatient");
    assert_request_schema_is::<PatientChanges>(&document, "PatientChanges");
    assert_request_schema_is::<PatientSearch>(&document, "PatientSearch");
}
