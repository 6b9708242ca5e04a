//! HTTP routes, one module per resource. Each module exposes `router()`, and this one
//! merges them. The clinical resources share one shape ([`resource`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::audit::RequestMeta;
use crate::error::ApiError;
use crate::middleware::request_log::RequestId;
use crate::state::AppState;

{% if modules contains "appointments" %}pub mod appointments;
{% endif %}pub mod audit;
pub mod auth;
{%- if modules contains "encounters" %}
pub mod encounters;
{%- endif %}
pub mod health;
pub mod me;
{%- if modules contains "notes" %}
pub mod notes;
{%- endif %}
pub mod patients;
pub mod resource;

/// Every route the service serves.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(audit::router())
        .merge(patients::router())
{%- if modules contains "encounters" %}
        .merge(encounters::router())
{%- endif %}
{%- if modules contains "appointments" %}
        .merge(appointments::router())
{%- endif %}
{%- if modules contains "notes" %}
        .merge(notes::router())
{%- endif %}
}

/// A JSON request body, read but not yet parsed: handlers check the caller's role first
/// and parse after, so a caller without the role learns nothing from validation errors.
/// The content type must be JSON, which a cross-site HTML form cannot send.
pub struct JsonBody(Bytes);

impl JsonBody {
    /// The body as `T`. Fields `T` does not declare are refused (every input type is
    /// `deny_unknown_fields`: no mass assignment of a clinic or a role), and a body that
    /// does not parse is answered with a fixed message: serde's own quotes the input.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.0).map_err(|error| {
            if error.is_data() {
                ApiError::Invalid(
                    "the JSON body has an unknown field, lacks a field or has a value of the wrong type",
                )
            } else {
                ApiError::Invalid("the body is not valid JSON")
            }
        })
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::trim)
            .is_some_and(|mime| {
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::Invalid(
                "expected a JSON body (content-type: application/json)",
            ));
        }
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|_| ApiError::Invalid("the body could not be read"))
    }
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
