//! What a request brings beyond its route: its JSON body, read but not yet parsed, the
//! client's address, and the request id and address every audit event carries. Beneath
//! the routes, so the flows they call (`auth`, `accounts`) can take these too without
//! importing upward.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::audit::RequestMeta;
use crate::error::ApiError;
use crate::state::AppState;

/// Identifies one request in logs and responses. Always made by the server: a client's
/// `x-request-id` is dropped, so nobody can forge one or smuggle data into the logs with it.
/// Handlers read it from the request extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(Uuid);

impl RequestId {
    /// A fresh id, made by `crate::middleware::request_log` for each request.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id as the audit trail stores it.
    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A JSON request body, read but not yet parsed: handlers check the caller's role first
/// and parse after, so a caller without the role learns nothing from validation errors.
/// The content type must be JSON, which a cross-site HTML form cannot send.
pub struct JsonBody(Bytes);

impl JsonBody {
    /// A body made on the server, e.g. from a page's form fields, to be parsed by the same
    /// rules as a client's.
    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(Bytes::from(value.to_string()))
    }

    /// The body as `T`. Fields `T` does not declare are refused (every input type is
    /// `deny_unknown_fields`: no mass assignment of a clinic or a role). A field that is
    /// missing or holds a value of the wrong type or format is named with a fixed rule;
    /// serde's own message is never passed on, as it quotes the input (OWASP ASVS 7.4.1).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let mut json = serde_json::Deserializer::from_slice(&self.0);
        let value = serde_path_to_error::deserialize(&mut json).map_err(|error| refusal(&error))?;
        // Anything after the value is not JSON either.
        json.end()
            .map_err(|_| ApiError::Invalid("the body is not valid JSON"))?;
        Ok(value)
    }
}

/// What the client is told about a body that does not make a `T`.
fn refusal(error: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    if !inner.is_data() {
        return ApiError::Invalid("the body is not valid JSON");
    }
    // Only serde's own wording is read, and only to pick the rule; the field named is one
    // the type declares. An unknown field's name is the client's input and is not echoed.
    let message = inner.to_string();
    if message.starts_with("unknown field") {
        return ApiError::Invalid("the JSON body has a field this request does not accept");
    }
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let (field, rule) = match missing {
        Some(name) => (field_path(error.path(), Some(name)), "is required"),
        None => (
            field_path(error.path(), None),
            "has a value of the wrong type or format",
        ),
    };
    match field {
        Some(field) => ApiError::invalid_field(field, rule),
        None => ApiError::Invalid(
            "the JSON body lacks a field or has a value of the wrong type or format",
        ),
    }
}

/// `path`, then `last`, as `care_team[2]` or `visit.reason`, when every name in it could
/// be a declared field (lowercase letters, digits and `_`): nothing else from the input is
/// ever echoed.
fn field_path(path: &serde_path_to_error::Path, last: Option<&str>) -> Option<String> {
    use serde_path_to_error::Segment;
    use std::fmt::Write;
    let mut field = String::new();
    for segment in path {
        match segment {
            Segment::Map { key } => push_name(&mut field, key)?,
            Segment::Seq { index } => {
                let _ = write!(field, "[{index}]");
            }
            Segment::Enum { .. } | Segment::Unknown => return None,
        }
    }
    if let Some(name) = last {
        push_name(&mut field, name)?;
    }
    (!field.is_empty()).then_some(field)
}

fn push_name(field: &mut String, name: &str) -> Option<()> {
    let declared = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !declared {
        return None;
    }
    if !field.is_empty() {
        field.push('.');
    }
    field.push_str(name);
    Some(())
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = media_type(request.headers()).is_some_and(|mime| {
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
        if !is_json {
            return Err(ApiError::Invalid(
                "expected a JSON body (content-type: application/json)",
            ));
        }
        read_body(request, state).await.map(Self)
    }
}

/// The media type of a request's `Content-Type`, without its parameters.
pub fn media_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
}

/// The whole body of `request`. A body sent in chunks has no length to refuse up front:
/// the limit (middleware::MAX_BODY_BYTES) stops the read, and the answer is the same 413.
pub async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Invalid("the body could not be read")
            }
        })
}

/// The client's address, for login throttling: the TCP peer, or, behind a declared TLS
/// proxy (`BEHIND_TLS_PROXY=true`), the address the proxy appended to
/// `X-Forwarded-For`.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let forwarded = state
            .behind_tls_proxy
            .then(|| parts.headers.get_all("x-forwarded-for").iter().next_back())
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Self(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// The request id and client address every audit event of a request carries.
impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(source) = ClientAddr::from_request_parts(parts, state).await?;
        Ok(Self {
            request_id: parts.extensions.get::<RequestId>().map(|id| id.as_uuid()),
            source,
        })
    }
}
