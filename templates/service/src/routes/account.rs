//! The account routes a token holder calls before any complete session exists (README.md,
//! "Accounts"): accepting an invitation, confirming the TOTP enrollment it started, and
//! completing a password reset. Each token travels in the JSON body, never the URL, and
//! each route is rate limited per network like `POST /auth/login`.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::auth::hand_over;
use super::openapi::Body;
use super::{Doc, JsonBody, Route};
use crate::accounts::credentials::{self, ResetCompletion, ResetOutcome};
use crate::accounts::enrollment::{self, Enrolled, TotpEnrollment};
use crate::accounts::invitations::{self, AcceptRequest, Accepted};
use crate::audit::RequestMeta;
use crate::auth::login::MfaRequest;
use crate::auth::rate_limit::WithinRateLimit;
use crate::auth::session::Transport;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/invitations/accept",
            post(accept),
            Doc::public(
                "accept an invitation: sets the password and starts TOTP enrollment (the secret is shown once)",
                Some(Body::json::<AcceptRequest>()),
                201,
                Some(Body::json::<Accepted>()),
            ),
        ),
        Route::new(
            Method::POST,
            "/auth/mfa/enroll",
            post(enroll),
            Doc::signed_in(
                "confirm the TOTP enrollment with a code; returns 10 single-use recovery codes, once",
                Some(Body::json::<MfaRequest>()),
                200,
                Some(Body::json::<Enrolled>()),
            ),
        ),
        Route::new(
            Method::POST,
            "/password-reset/complete",
            post(complete_reset),
            Doc::public(
                "set a new password with a reset token and the second factor; 204, or 201 with a TOTP enrollment for an account that never bound one",
                Some(Body::json::<ResetCompletion>()),
                204,
                Some(Body::json::<TotpEnrollment>()),
            ),
        ),
    ]
}

async fn accept(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let request: AcceptRequest = body.parse()?;
    let (session, mut accepted) = invitations::accept(&state, meta, request).await?;
    let transport = Transport::requested(&headers);
    accepted.token = (transport == Transport::Bearer).then(|| session.token.as_str().to_owned());
    Ok(hand_over(
        &state,
        &session,
        transport,
        StatusCode::CREATED,
        &accepted,
    ))
}

async fn enroll(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let request: MfaRequest = body.parse()?;
    let (session, transport, codes) = enrollment::confirm(&state, &headers, meta, request).await?;
    let enrolled = Enrolled {
        recovery_codes: codes.iter().map(|code| code.reveal().to_owned()).collect(),
        token: (transport == Transport::Bearer).then(|| session.token.as_str().to_owned()),
    };
    Ok(hand_over(
        &state,
        &session,
        transport,
        StatusCode::OK,
        &enrolled,
    ))
}

async fn complete_reset(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let request: ResetCompletion = body.parse()?;
    match credentials::complete_reset(&state, meta, request).await? {
        ResetOutcome::Done => Ok(StatusCode::NO_CONTENT.into_response()),
        ResetOutcome::Enroll(session, mut enrollment) => {
            let transport = Transport::requested(&headers);
            enrollment.token =
                (transport == Transport::Bearer).then(|| session.token.as_str().to_owned());
            Ok(hand_over(
                &state,
                &session,
                transport,
                StatusCode::CREATED,
                &enrollment,
            ))
        }
    }
}
