//! `POST /auth/login`, `POST /auth/mfa`, `POST /auth/logout` (README.md, "API"). The flows are in
//! [`crate::auth::login`]; these handlers put the session token where the client wants it.

use axum::http::Method;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::Body;
use super::{Doc, JsonBody, Route};
use crate::audit::RequestMeta;
use crate::auth::login::{self, LoginRequest, MfaRequest, NewSession};
use crate::auth::rate_limit::WithinRateLimit;
use crate::auth::session::{Transport, clear_cookie, cookie_lifetime};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/auth/login",
            post(log_in),
            Doc {
                summary: "log in; a session, or a pending one when MFA is required",
                public: true,
                request: Some(Body::json::<LoginRequest>()),
                status: 200,
                response: Some(Body::json::<SessionBody<'static>>()),
                query: None,
            },
        ),
        Route::new(
            Method::POST,
            "/auth/mfa",
            post(mfa),
            Doc {
                summary: "complete a pending login with a TOTP code",
                public: false,
                request: Some(Body::json::<MfaRequest>()),
                status: 200,
                response: Some(Body::json::<SessionBody<'static>>()),
                query: None,
            },
        ),
        Route::new(
            Method::POST,
            "/auth/logout",
            post(log_out),
            Doc {
                summary: "end the session on the server",
                public: false,
                request: None,
                status: 204,
                response: None,
                query: None,
            },
        ),
    ]
}

/// What login and MFA answer. `token` is there only for clients that asked for a bearer
/// token (`x-session-transport: bearer`); browsers get an HttpOnly cookie instead.
#[derive(Serialize, ToSchema)]
#[schema(as = Session)]
struct SessionBody<'a> {
    mfa_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

async fn log_in(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let request: LoginRequest = body.parse()?;
    let session = login::login(&state, request, meta).await?;
    Ok(respond(&state, session, Transport::requested(&headers)))
}

async fn mfa(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let request: MfaRequest = body.parse()?;
    let (session, transport) = login::complete_mfa(&state, &headers, meta, request).await?;
    Ok(respond(&state, session, transport))
}

async fn log_out(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let transport = login::logout(&state, &headers, meta).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if transport == Transport::Cookie {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, clear_cookie());
    }
    Ok(response)
}

fn respond(state: &AppState, session: NewSession, transport: Transport) -> Response {
    let body = SessionBody {
        mfa_required: session.mfa_pending(),
        token: (transport == Transport::Bearer).then(|| session.token.as_str()),
    };
    hand_over(state, &session, transport, StatusCode::OK, &body)
}

/// Answers `status` with `body`, handing `session` to a cookie client as its cookie (a
/// bearer client finds the token in `body`). Never cached: the body holds a credential.
pub(super) fn hand_over(
    state: &AppState,
    session: &NewSession,
    transport: Transport,
    status: StatusCode,
    body: &impl Serialize,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if transport == Transport::Cookie {
        let lifetime = cookie_lifetime(&state.sessions, session.stage);
        headers.insert(header::SET_COOKIE, session.token.cookie(lifetime));
    }
    response
}
