//! HTTP routes, one module per resource. Each module exposes `router()`, and this one
//! merges them. The clinical resources share one shape ([`resource`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;
use utoipa::openapi::path::Parameter;

use crate::audit::RequestMeta;
use crate::error::ApiError;
use crate::middleware::request_log::RequestId;
use crate::state::AppState;
use openapi::Body;

{% if modules contains "appointments" %}pub mod appointments;
{% endif %}pub mod audit;
pub mod auth;
pub mod emergency_access;
{%- if modules contains "encounters" %}
pub mod encounters;
{%- endif %}
pub mod health;
pub mod me;
{%- if modules contains "notes" %}
pub mod notes;
{%- endif %}
pub mod openapi;
pub mod patients;
pub mod resource;
pub mod restriction;

/// One route: its method, path and handler, and what `GET /openapi.json` says about it.
/// The router and the OpenAPI document are both built from [`routes`], so they cannot
/// drift apart.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
    pub doc: Doc,
}

/// The OpenAPI description of a route. Path parameters are the `{id}` segments (opaque
/// UUIDs); the query parameters are those of the type the handler's `SafeQuery` reads
/// (paging: `?after=&limit=`), and nothing else is ever in the URL.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    /// Served without a session.
    pub public: bool,
    /// The request body, if any.
    pub request: Option<Body>,
    /// The success status and the response body, if any.
    pub status: u16,
    pub response: Option<Body>,
    /// The query parameters, if any: `openapi::query::<Paging>`.
    pub query: Option<fn() -> Vec<Parameter>>,
}

impl Route {
    pub fn new(
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
        doc: Doc,
    ) -> Self {
        Self {
            method,
            path,
            handler,
            doc,
        }
    }
}

/// Every route the service serves.
pub fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(health::routes());
    routes.extend(auth::routes());
    routes.extend(me::routes());
    routes.extend(audit::routes());
    routes.extend(patients::routes());
    routes.extend(restriction::routes());
    routes.extend(emergency_access::routes());
{%- if modules contains "encounters" %}
    routes.extend(encounters::routes());
{%- endif %}
{%- if modules contains "appointments" %}
    routes.extend(appointments::routes());
{%- endif %}
{%- if modules contains "notes" %}
    routes.extend(notes::routes());
{%- endif %}
    routes.extend(openapi::routes());
    routes
}

/// The router of [`routes`].
pub fn router() -> Router<AppState> {
    routes().into_iter().fold(Router::new(), |router, route| {
        router.route(route.path, route.handler)
    })
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
