//! HTTP routes, one module per resource. Each module exposes `router()`, and this one
//! merges them. The clinical resources share one shape ([`resource`]).

use axum::Router;
use axum::http::Method;
use axum::routing::MethodRouter;
use utoipa::openapi::path::Parameter;

pub use crate::request::JsonBody;
use crate::state::AppState;
use openapi::Body;

pub mod account;
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
pub mod users;
// The resources added with `medforge add resource`, which writes between these lines.
// medforge:resource-route-modules:start
// medforge:resource-route-modules:end

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

impl Doc {
    /// A route that needs a session, without query parameters.
    pub const fn signed_in(
        summary: &'static str,
        request: Option<Body>,
        status: u16,
        response: Option<Body>,
    ) -> Self {
        Self {
            summary,
            public: false,
            request,
            status,
            response,
            query: None,
        }
    }

    /// The same for a route served without a session.
    pub const fn public(
        summary: &'static str,
        request: Option<Body>,
        status: u16,
        response: Option<Body>,
    ) -> Self {
        Self {
            public: true,
            ..Self::signed_in(summary, request, status, response)
        }
    }
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
    routes.extend(account::routes());
    routes.extend(users::routes());
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
    // medforge:resource-routes:start
    // medforge:resource-routes:end
    routes.extend(openapi::routes());
    routes
}

/// The router of [`routes`].
pub fn router() -> Router<AppState> {
    routes().into_iter().fold(Router::new(), |router, route| {
        router.route(route.path, route.handler)
    })
}
