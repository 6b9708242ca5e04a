//! The body of a page's form: `application/x-www-form-urlencoded` fields, read once, with
//! the CSRF token ([`super::csrf::FIELD`]) taken out for checking. The other fields go to
//! the same request types the API parses ([`Fields::to_json`]), so a form is validated
//! by exactly the rules a JSON body is.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use super::csrf;
use crate::error::ApiError;
use crate::request::{JsonBody, media_type, read_body};

/// A submitted form's fields, the CSRF token aside.
#[derive(Default)]
pub struct Fields {
    fields: BTreeMap<String, String>,
    csrf: Option<String>,
}

impl std::fmt::Debug for Fields {
    /// Names only: the values are what staff typed, PHI among them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.fields.keys()).finish()
    }
}

impl Fields {
    /// Parses a form body. A name given twice keeps its last value.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| ApiError::Invalid("the form body is not valid"))?;
        let mut form = Self::default();
        for (name, value) in pairs {
            if name == csrf::FIELD {
                form.csrf = Some(value);
            } else {
                form.fields.insert(name, value);
            }
        }
        Ok(form)
    }

    /// The CSRF token the form carried.
    pub fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// The value of `name` as typed (passwords are not trimmed), `""` when absent.
    pub fn raw(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The fields `names`, as the JSON object the API's request type reads: a blank field
    /// is left out (the type's default, or its "is required" rule), or sent as `null` when
    /// `blank_is_null` names it (an edit that clears an optional value). Any other field
    /// of the form is ignored, so a form cannot set what its page does not show.
    pub fn to_json(&self, names: &[&str], blank_is_null: &[&str]) -> JsonBody {
        let mut object = Map::new();
        for name in names {
            match self.get(name) {
                Some(value) => {
                    object.insert((*name).to_owned(), Value::String(value.to_owned()));
                }
                None if blank_is_null.contains(name) => {
                    object.insert((*name).to_owned(), Value::Null);
                }
                None => {}
            }
        }
        JsonBody::from_value(&Value::Object(object))
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = media_type(request.headers())
            .is_some_and(|mime| mime.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::Invalid("the body must be a form"));
        }
        let body = read_body(request, state).await?;
        Self::parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_out_and_blank_fields_are_left_out() {
        let form = Fields::parse(b"csrf=abc&mrn=+MRN-1+&phone=&extra=x").unwrap();
        assert_eq!(form.csrf(), Some("abc"));
        assert_eq!(form.get("mrn"), Some("MRN-1"));
        assert_eq!(form.get("phone"), None);
        let json: Value = form.to_json(&["mrn", "phone"], &[]).parse().unwrap();
        assert_eq!(json, serde_json::json!({"mrn": "MRN-1"}));
        let json: Value = form.to_json(&["mrn", "phone"], &["phone"]).parse().unwrap();
        assert_eq!(json, serde_json::json!({"mrn": "MRN-1", "phone": null}));
        assert_eq!(format!("{form:?}"), r#"["extra", "mrn", "phone"]"#);
    }
}
