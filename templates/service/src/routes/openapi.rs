//! `GET /openapi.json` (README.md, "API"): an OpenAPI 3.1 description of every route the service
//! serves, assembled with utoipa from [`routes`](super::routes), the same list the router
//! is built from, so the two cannot drift apart. The schemas are derived from the request
//! and response types themselves (`#[derive(utoipa::ToSchema)]`), so they cannot drift
//! from the types either.
//!
//! The URL carries nothing but opaque ids (`{id}`, a UUID) and paging (`after`, `limit`,
//! from the query types' `#[derive(utoipa::IntoParams)]`): PHI travels in JSON bodies
//! only. PHI fields (`phi_guard::Phi<T>`) are described as `T`, marked `"x-phi": true`, by
//! the type itself (phi-guard's `utoipa` feature): `#[schema(schema_with =
//! Phi::<T>::schema)]`. utoipa knows the chrono types only inside its derive, so a date or
//! time field says both: `#[schema(value_type = T, extensions(("x-phi" = json!(true))))]`.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, ResponsesBuilder,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::resource::Page;
use super::{Doc, Route};
use crate::error::ErrorBody;

/// The session cookie (`__Host-` prefixed, HttpOnly, Secure, SameSite=Strict).
pub const COOKIE_SCHEME: &str = "sessionCookie";
/// The same session as `Authorization: Bearer`, for API clients.
pub const BEARER_SCHEME: &str = "bearer";

const JSON: &str = "application/json";

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
            response: Some(Body::json::<Document>()),
            query: None,
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

/// A request or response body as the document describes it: a schema in `components`,
/// derived from the body's Rust type, so a route names its bodies by type and the
/// compiler checks them.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    media_type: &'static str,
    /// The schema's name in `components`.
    name: fn() -> Cow<'static, str>,
    /// The schema registered under that name.
    schema: fn() -> RefOr<Schema>,
    /// Adds the named schemas this one refers to.
    references: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl Body {
    /// A JSON body of type `T`.
    pub const fn json<T: ToSchema>() -> Self {
        Self {
            media_type: JSON,
            name: T::name,
            schema: T::schema,
            references: T::schemas,
        }
    }

    /// A JSON [`Page`] of `T`s, named `{T}Page` (utoipa names every `Page<T>` `Page`).
    pub const fn page<T: ToSchema>() -> Self {
        Self {
            media_type: JSON,
            name: page_name::<T>,
            schema: <Page<T>>::schema,
            references: with::<T>,
        }
    }

    /// A JSON array of `T`s, named `{T}List`.
    pub const fn list<T: ToSchema>() -> Self {
        Self {
            media_type: JSON,
            name: list_name::<T>,
            schema: list_schema::<T>,
            references: with::<T>,
        }
    }

    /// The same body, of another media type.
    pub const fn media_type(self, media_type: &'static str) -> Self {
        Self { media_type, ..self }
    }

    /// Adds the body's schema and those it refers to to `schemas`.
    fn register(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(((self.name)().into_owned(), (self.schema)()));
        (self.references)(schemas);
    }

    /// A reference to the body's schema, in its media type.
    fn content(&self) -> (&'static str, utoipa::openapi::Content) {
        let reference = Ref::from_schema_name((self.name)());
        (
            self.media_type,
            ContentBuilder::new().schema(Some(reference)).build(),
        )
    }
}

fn page_name<T: ToSchema>() -> Cow<'static, str> {
    format!("{}Page", T::name()).into()
}

fn list_name<T: ToSchema>() -> Cow<'static, str> {
    format!("{}List", T::name()).into()
}

fn list_schema<T: ToSchema>() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .into()
}

/// `T`'s schema and those it refers to.
fn with<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// The query parameters of `T`, the type a route's `SafeQuery` reads.
pub fn query<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// `T`'s schema marked `"x-phi": true`, for `#[schema(schema_with = phi::<T>)]` in the
/// models `medforge add resource` writes; the built-in models name `Phi::<T>::schema`
/// (phi-guard's `utoipa` feature), which also writes a nullable `T` as the derive does.
pub fn phi<T: PartialSchema>() -> RefOr<Schema> {
    phi_guard::openapi::marked(T::schema())
}

/// This document, as the schema of `GET /openapi.json`'s answer.
pub struct Document;

impl PartialSchema for Document {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("this document"))
            .into()
    }
}

impl ToSchema for Document {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OpenApi")
    }
}

/// The OpenAPI document of [`routes`](super::routes).
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut schemas = Vec::new();
    let error = Body::json::<ErrorBody>();
    error.register(&mut schemas);
    for route in super::routes() {
        let Some(method) = http_method(&route.method) else {
            continue;
        };
        for body in route.doc.request.iter().chain(&route.doc.response) {
            body.register(&mut schemas);
        }
        let operation = operation(route.path, &route.doc, &error);
        paths = paths.path(route.path, PathItem::new(method, operation));
    }
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "the session token, from a login with `x-session-transport: bearer`",
        ))
        .build();
    let components = ComponentsBuilder::new()
        .security_scheme(
            COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::session::COOKIE_NAME,
            ))),
        )
        .security_scheme(BEARER_SCHEME, SecurityScheme::Http(bearer))
        .schemas_from_iter(schemas)
        .build();
    let info = InfoBuilder::new()
        .title(env!("CARGO_PKG_NAME"))
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(env!("CARGO_PKG_DESCRIPTION")))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths.build())
        .components(Some(components))
        .security(Some([
            SecurityRequirement::new(COOKIE_SCHEME, Vec::<String>::new()),
            SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
        ]))
        .build()
}

/// The methods routes are served with. A route of any other would be left out of the
/// document, which `openapi_describes_every_route` catches.
fn http_method(method: &Method) -> Option<HttpMethod> {
    [
        (Method::GET, HttpMethod::Get),
        (Method::POST, HttpMethod::Post),
        (Method::PUT, HttpMethod::Put),
        (Method::PATCH, HttpMethod::Patch),
        (Method::DELETE, HttpMethod::Delete),
    ]
    .into_iter()
    .find_map(|(served, described)| (*method == served).then_some(described))
}

fn operation(path: &str, doc: &Doc, error: &Body) -> Operation {
    let ids = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("an opaque id"))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                ))
                .build()
        });
    let parameters: Vec<Parameter> = ids
        .chain(doc.query.map(|query| query()).into_iter().flatten())
        .collect();

    let mut success = ResponseBuilder::new().description(doc.summary);
    if let Some(body) = &doc.response {
        let (media_type, content) = body.content();
        success = success.content(media_type, content);
    }
    let (media_type, content) = error.content();
    let responses = ResponsesBuilder::new()
        .response(doc.status.to_string(), success.build())
        .response(
            "default",
            ResponseBuilder::new()
                .description("an error")
                .content(media_type, content)
                .build(),
        )
        .build();

    let mut operation = OperationBuilder::new()
        .summary(Some(doc.summary))
        .responses(responses);
    if !parameters.is_empty() {
        operation = operation.parameters(Some(parameters));
    }
    if let Some(body) = &doc.request {
        let (media_type, content) = body.content();
        operation = operation.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(media_type, content)
                .build(),
        ));
    }
    if doc.public {
        operation = operation.securities(Some(Vec::<SecurityRequirement>::new()));
    }
    operation.build()
}
