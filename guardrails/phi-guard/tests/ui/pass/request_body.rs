#![deny(warnings)]

use phi_guard::Phi;
use serde::Deserialize;

/// A `POST /patients/search` body: PHI belongs in the JSON body, never the URL.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchRequest {
    name: Phi<String>,
    date_of_birth: Phi<String>,
    mrn: Option<Phi<u64>>,
}

fn main() {
    let body = r#"{"name":"Synthetic Person","date_of_birth":"1970-01-01","mrn":null}"#;
    let request: SearchRequest = serde_json::from_str(body).unwrap();
    assert_eq!(request.name.expose(), "Synthetic Person");
    assert_eq!(request.date_of_birth.into_exposed(), "1970-01-01");
    assert!(request.mrn.is_none());
}
