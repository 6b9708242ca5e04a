//! The one way PHI leaves the service serialized: an API response body ([`PhiJson`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::Phi;

/// A value that may be written in an API response body, where its [`Phi`] fields are exposed.
///
/// `#[derive(PhiResponse)]` implements it for a struct; it is also implemented for
/// `Phi<T: Serialize>`, [`OpaqueId`](crate::OpaqueId), primitives, strings, `Option`,
/// `Vec`, slices, arrays, `Box`, references, and maps from `Serialize` keys to response
/// values.
///
/// It is not `Serialize`: the only serializer it is handed to is the one inside
/// [`PhiJson`], which is the only code that can create a [`ResponseToken`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written in an API response body",
    label = "not a `ResponseBody`",
    note = "derive `phi_guard::PhiResponse` for it, or mark the field `#[phi(serde)]` to write it with its `Serialize` impl (PHI never has one)"
)]
pub trait ResponseBody {
    /// Writes the value with PHI exposed. Only reachable with a [`ResponseToken`].
    fn serialize_body<S: Serializer>(
        &self,
        serializer: S,
        token: ResponseToken,
    ) -> Result<S::Ok, S::Error>;
}

/// Proof that serialization runs inside [`PhiJson`]; nothing outside this crate can make one.
#[derive(Clone, Copy)]
pub struct ResponseToken {
    _private: (),
}

impl ResponseToken {
    pub(crate) const fn new() -> Self {
        ResponseToken { _private: () }
    }
}

/// Serializes a response value with the token it was given: the bridge from
/// [`ResponseBody`] to serde's `Serialize` that stays inside this crate.
pub(crate) struct InResponse<'a, T: ?Sized> {
    pub(crate) value: &'a T,
    pub(crate) token: ResponseToken,
}

impl<T: ResponseBody + ?Sized> Serialize for InResponse<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize_body(serializer, self.token)
    }
}

/// `impl ResponseBody for $ty`, its body written as `|self, serializer, token| expr`.
macro_rules! response_body {
    ($([$($generics:tt)*] $ty:ty => |$this:ident, $serializer:ident, $token:ident| $body:expr;)*) => {$(
        impl<$($generics)*> ResponseBody for $ty {
            fn serialize_body<S: Serializer>(
                &self,
                $serializer: S,
                $token: ResponseToken,
            ) -> Result<S::Ok, S::Error> {
                let $this = self;
                $body
            }
        }
    )*};
}

/// Types that hold no PHI are written with their own `Serialize` impl.
macro_rules! response_body_via_serialize {
    ($($ty:ty),* $(,)?) => {
        response_body! { $([] $ty => |this, serializer, _token| this.serialize(serializer);)* }
    };
}

response_body_via_serialize!(
    (),
    bool,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    char,
    str,
    String,
    crate::OpaqueId,
);

response_body! {
    // The one place a `Phi` is serialized.
    [T: Serialize] Phi<T> => |this, serializer, _token| this.expose().serialize(serializer);
    [T: ResponseBody + ?Sized] &T => |this, serializer, token|
        (**this).serialize_body(serializer, token);
    [T: ResponseBody + ?Sized] Box<T> => |this, serializer, token|
        (**this).serialize_body(serializer, token);
    [T: ResponseBody] Option<T> => |this, serializer, token| match this {
        Some(value) => serializer.serialize_some(&InResponse { value, token }),
        None => serializer.serialize_none(),
    };
    [T: ResponseBody] [T] => |this, serializer, token| {
        let mut seq = serializer.serialize_seq(Some(this.len()))?;
        for value in this {
            seq.serialize_element(&InResponse { value, token })?;
        }
        seq.end()
    };
    [T: ResponseBody, const N: usize] [T; N] => |this, serializer, token|
        this.as_slice().serialize_body(serializer, token);
    [T: ResponseBody] Vec<T> => |this, serializer, token|
        this.as_slice().serialize_body(serializer, token);
    [K: Serialize, V: ResponseBody] BTreeMap<K, V> => |this, serializer, token|
        serialize_map(serializer, this.len(), this.iter(), token);
    [K: Serialize, V: ResponseBody, H: BuildHasher] HashMap<K, V, H> => |this, serializer, token|
        serialize_map(serializer, this.len(), this.iter(), token);
}

/// Map keys are `Serialize`, never PHI: they tend to end up in logs and metrics.
fn serialize_map<'a, S, K, V>(
    serializer: S,
    len: usize,
    entries: impl Iterator<Item = (&'a K, &'a V)>,
    token: ResponseToken,
) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    K: Serialize + 'a,
    V: ResponseBody + 'a,
{
    let mut map = serializer.serialize_map(Some(len))?;
    for (key, value) in entries {
        map.serialize_entry(key, &InResponse { value, token })?;
    }
    map.end()
}

/// An API response whose body is `T` as JSON, PHI included, sent with
/// `Cache-Control: no-store` so no browser or proxy keeps a copy.
///
/// ```
/// use axum::response::IntoResponse;
/// use phi_guard::{Phi, PhiJson, PhiResponse};
///
/// #[derive(PhiResponse)]
/// struct PatientView {
///     name: Phi<String>,
/// }
///
/// let response = PhiJson(PatientView { name: Phi::new("Synthetic Person".into()) }).into_response();
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
pub struct PhiJson<T: ResponseBody>(pub T);

impl<T: ResponseBody> IntoResponse for PhiJson<T> {
    fn into_response(self) -> Response {
        let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match to_json(&self.0) {
            Ok(body) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    no_store,
                ],
                body,
            )
                .into_response(),
            // serde_json only fails here on e.g. a map with non-string keys; its message may
            // describe the data, so the client gets a bare 500.
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, [no_store]).into_response(),
        }
    }
}

fn to_json<T: ResponseBody + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(256);
    value.serialize_body(
        &mut serde_json::Serializer::new(&mut body),
        ResponseToken::new(),
    )?;
    Ok(body)
}

/// Helpers the derives expand to. Not public API.
#[doc(hidden)]
pub mod derive_support {
    use serde::Serialize;
    use serde::ser::SerializeStruct;

    use super::{InResponse, ResponseBody, ResponseToken};

    pub fn field<S, T>(
        state: &mut S,
        key: &'static str,
        value: &T,
        token: ResponseToken,
    ) -> Result<(), S::Error>
    where
        S: SerializeStruct,
        T: ResponseBody + ?Sized,
    {
        state.serialize_field(key, &InResponse { value, token })
    }

    /// A `#[phi(serde)]` field: written with its own `Serialize` impl, which PHI lacks.
    pub fn serde_field<S, T>(state: &mut S, key: &'static str, value: &T) -> Result<(), S::Error>
    where
        S: SerializeStruct,
        T: Serialize + ?Sized,
    {
        state.serialize_field(key, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OpaqueId, PhiResponse};

    #[derive(PhiResponse)]
    struct PatientView {
        id: OpaqueId,
        name: Phi<String>,
        #[phi(rename = "dateOfBirth")]
        date_of_birth: Phi<Option<String>>,
        allergies: Vec<Phi<String>>,
        #[phi(serde)]
        status: Status,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        Active,
    }

    #[derive(PhiResponse)]
    struct Page<T> {
        items: Vec<T>,
        next_page: Option<u32>,
    }

    fn patient() -> PatientView {
        PatientView {
            id: OpaqueId::from_u128(1),
            name: Phi::new("Synthetic Person".into()),
            date_of_birth: Phi::new(None),
            allergies: vec![Phi::new("synthetic pollen".into())],
            status: Status::Active,
        }
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn phi_json_writes_phi_fields_with_no_store() {
        let response = PhiJson(patient()).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_text(response).await,
            r#"{"id":"00000000-0000-0000-0000-000000000001","name":"Synthetic Person","dateOfBirth":null,"allergies":["synthetic pollen"],"status":"active"}"#
        );
    }

    #[tokio::test]
    async fn nested_response_values_are_written() {
        let page = Page {
            items: vec![patient()],
            next_page: Some(2),
        };
        let body = body_text(PhiJson(page).into_response()).await;
        assert!(body.starts_with(r#"{"items":[{"id":"#), "{body}");
        assert!(
            body.ends_with(r#""status":"active"}],"next_page":2}"#),
            "{body}"
        );
    }

    #[tokio::test]
    async fn serialization_failure_is_a_bare_500() {
        let mut map = HashMap::new();
        map.insert(vec![1u8], Phi::new(String::from("Synthetic Person")));
        let response = PhiJson(map).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(body_text(response).await, "");
    }
}
