//! Audit events as FHIR R4 AuditEvent resources (HIPAA 164.312(b)), for export to a SIEM or a
//! FHIR server: who (`agent`), what (`entity`), when (`recorded`), `action`, `outcome`
//! and `source`. HIPAA 164.312(b); IHE BALP uses the same mapping.

use std::borrow::Cow;

use chrono::SecondsFormat;
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::chain::StoredEvent;

/// The system that observed the events (`AuditEvent.source.observer`).
pub const OBSERVER: &str = env!("CARGO_PKG_NAME");

/// FHIR's `AuditEvent.action`: Create, Read, Update, Delete or Execute (logins, searches
/// and every other operation).
pub fn action_code(action: &str) -> &'static str {
    match action {
        "create" => "C",
        "read" => "R",
        "update" => "U",
        "delete" => "D",
        _ => "E",
    }
}

/// FHIR's `AuditEvent.outcome`: 0 success, 4 minor failure (e.g. a wrong password),
/// 8 serious failure (a refused access).
pub fn outcome_code(outcome: &str) -> &'static str {
    match outcome {
        "success" => "0",
        "failure" => "4",
        _ => "8",
    }
}

/// The FHIR resource type a table's records map to, for `entity.what`.
fn fhir_type(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "patients" => Some("Patient"),
        "encounters" => Some("Encounter"),
        "appointments" => Some("Appointment"),
        "notes" => Some("DocumentReference"),
        "audit_events" => Some("AuditEvent"),
        "users" => Some("Practitioner"),
        "clinics" => Some("Organization"),
        _ => None,
    }
}

/// `AuditEvent.type` and `subtype`: a RESTful operation on a record, or a user
/// authentication event (DICOM 110114) with its login or logout subtype.
fn event_type(action: &str) -> (Value, Option<Value>) {
    const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
    let rest = json!({
        "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
        "code": "rest",
        "display": "RESTful Operation"
    });
    let interaction =
        |code: &str| json!({ "system": "http://hl7.org/fhir/restful-interaction", "code": code });
    let authentication =
        json!({ "system": DCM, "code": "110114", "display": "User Authentication" });
    match action {
        "read" => (rest, Some(interaction("read"))),
        "create" => (rest, Some(interaction("create"))),
        "update" => (rest, Some(interaction("update"))),
        "delete" => (rest, Some(interaction("delete"))),
        "search" => (rest, Some(interaction("search-type"))),
        "login" | "login_failed" | "mfa" | "mfa_failed" | "use_recovery_code" => (
            authentication,
            Some(json!({ "system": DCM, "code": "110122", "display": "Login" })),
        ),
        "logout" | "timeout" | "revoke_session" => (
            authentication,
            Some(json!({ "system": DCM, "code": "110123", "display": "Logout" })),
        ),
        "egress" => (
            json!({ "system": DCM, "code": "110106", "display": "Export" }),
            None,
        ),
        "create_user" | "disable_user" | "unlock_user" | "invite_user" | "accept_invitation"
        | "change_role" | "enable_user" => (
            json!({ "system": DCM, "code": "110136", "display": "Security Roles Changed" }),
            None,
        ),
        "enroll_mfa"
        | "reset_password"
        | "complete_password_reset"
        | "change_password"
        | "renew_recovery_codes" => (
            json!({ "system": DCM, "code": "110137", "display": "User Security Attributes Changed" }),
            None,
        ),
        "seed" => (
            json!({ "system": DCM, "code": "110107", "display": "Import" }),
            None,
        ),
        "audit_checkpoint" => (
            json!({ "system": DCM, "code": "110101", "display": "Audit Log Used" }),
            None,
        ),
        "create_clinic" => (rest, Some(interaction("create"))),
        _ => (
            json!({ "system": DCM, "code": "110113", "display": "Security Alert" }),
            None,
        ),
    }
}

/// One event as a FHIR R4 AuditEvent.
pub fn audit_event(event: &StoredEvent) -> Value {
    let record = &event.record;
    let (kind, subtype) = event_type(&record.action);
    let mut agent = json!({
        "requestor": true,
        "who": match record.actor_user_id {
            Some(id) => json!({ "identifier": { "system": concat!("urn:", env!("CARGO_PKG_NAME"), ":user"), "value": id.to_string() } }),
            None => json!({ "display": "unknown account" }),
        }
    });
    if let Some(role) = &record.actor_role {
        agent["role"] = json!([{ "text": role }]);
    }
    if let Some(address) = &record.source_address {
        // Type 2: an IP address.
        agent["network"] = json!({ "address": address, "type": "2" });
    }
    let mut resource = json!({
        "resourceType": "AuditEvent",
        "id": event.id.to_string(),
        "type": kind,
        "action": action_code(&record.action),
        "recorded": record.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "outcome": outcome_code(&record.outcome),
        "outcomeDesc": format!("{} {}", record.action, record.outcome),
        "agent": [agent],
        "source": {
            "site": record.clinic_id.to_string(),
            "observer": { "display": OBSERVER },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server"
            }]
        },
        "extension": [
            { "url": concat!("urn:", env!("CARGO_PKG_NAME"), ":audit:seq"), "valueString": record.seq.to_string() },
            { "url": concat!("urn:", env!("CARGO_PKG_NAME"), ":audit:hash"), "valueBase64Binary": base64(&event.hash) }
        ]
    });
    if let Some(subtype) = subtype {
        resource["subtype"] = json!([subtype]);
    }
    if let (Some(request_id), Some(extensions)) =
        (record.request_id, resource["extension"].as_array_mut())
    {
        extensions.push(json!({
            "url": concat!("urn:", env!("CARGO_PKG_NAME"), ":audit:request-id"),
            "valueString": request_id.to_string()
        }));
    }
    if let Some(resource_type) = &record.resource_type {
        let what = match (fhir_type(resource_type), record.resource_id) {
            (Some(fhir), Some(id)) => json!({ "reference": format!("{fhir}/{id}") }),
            (_, Some(id)) => {
                json!({ "identifier": { "value": id.to_string() }, "display": resource_type })
            }
            (_, None) => json!({ "display": resource_type }),
        };
        resource["entity"] = json!([{
            "what": what,
            // Type 2: a system object (a record).
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "2",
                "display": "System Object"
            }
        }]);
    }
    resource
}

/// The media type of a FHIR resource in JSON.
pub const MEDIA_TYPE: &str = "application/fhir+json";

/// What [`bundle`] answers, as `GET /openapi.json` describes it. The bundle is JSON built
/// here rather than a Rust type, so its schema is written here, beside it.
pub struct FhirBundle;

impl PartialSchema for FhirBundle {
    fn schema() -> RefOr<Schema> {
        let constant = |value: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value]))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "a FHIR R4 Bundle (type collection) of AuditEvent resources",
            ))
            .property("resourceType", constant("Bundle"))
            .required("resourceType")
            .property("type", constant("collection"))
            .required("type")
            .property("total", ObjectBuilder::new().schema_type(Type::Integer))
            .required("total")
            .property(
                "entry",
                ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object)),
            )
            .required("entry")
            .into()
    }
}

impl ToSchema for FhirBundle {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FhirBundle")
    }
}

/// A page of events as a FHIR Bundle (type `collection`) of AuditEvents.
pub fn bundle(events: &[StoredEvent]) -> Value {
    let entries: Vec<Value> = events
        .iter()
        .map(|event| json!({ "resource": audit_event(event) }))
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "total": entries.len(),
        "entry": entries
    })
}

/// Standard base64 with padding, as FHIR's base64Binary.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn actions_map_onto_crude() {
        assert_eq!(action_code("read"), "R");
        assert_eq!(action_code("search"), "E");
        assert_eq!(action_code("login"), "E");
        assert_eq!(outcome_code("denied"), "8");
    }
}
