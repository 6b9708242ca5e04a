//! Signing in and out: the login form, the second factor, an invitation's first visit
//! (password, TOTP enrollment with a QR code drawn on the server, recovery codes shown
//! once), sign-out, and the page of an ended session. Each step is the API's own flow
//! ([`login`], [`invitations`], [`enrollment`]), with its throttling and audit events;
//! these handlers only carry the session token in the cookie and the forms' tokens.
//!
//! Before a session exists, the forms are bound to a pre-session cookie
//! ([`csrf::PreSession`]): another site cannot sign a browser in to an account of its
//! choosing (login CSRF, OWASP ASVS 3.5.3).

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::csrf::{self, PreSession};
use super::form::Fields;
use super::page::{self, Chrome, PageError};
use super::viewer::{Viewer, checked_session_token};
use crate::accounts::{enrollment, invitations};
use crate::audit::RequestMeta;
use crate::auth::login::{self, LoginRequest, MfaRequest, NewSession};
use crate::auth::rate_limit::WithinRateLimit;
use crate::auth::session::{clear_cookie, cookie_lifetime};
use crate::auth::store::session::Stage;
use crate::error::ApiError;
use crate::request::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(page::HOME, get(home))
        .route(page::SIGN_IN, get(login_form).post(log_in))
        .route(
            "/app/login/mfa",
            get(second_factor_form).post(second_factor),
        )
        .route("/app/logout", axum::routing::post(log_out))
        .route("/app/expired", get(expired))
        .route("/app/welcome", get(welcome_form).post(welcome))
        .route("/app/enroll", axum::routing::post(enroll))
}

/// `/app`: the start of the signed-in role.
async fn home(viewer: Viewer) -> Result<Response, PageError> {
    let role = viewer.caller.user.role;
    viewer.caller.commit().await?;
    Ok(page::see_other(Chrome::start_of(role)))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Option<&'a Chrome>,
    csrf: &'a str,
    email: &'a str,
    problem: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct SecondFactorPage<'a> {
    chrome: Option<&'a Chrome>,
    csrf: &'a str,
    problem: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage<'a> {
    chrome: Option<&'a Chrome>,
    csrf: &'a str,
    problem: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "enroll.html")]
struct EnrollPage<'a> {
    chrome: Option<&'a Chrome>,
    csrf: &'a str,
    /// The account, the QR code and the key: shown on the first visit only, never again.
    first_visit: Option<FirstVisit<'a>>,
    problem: Option<&'a str>,
}

/// What the enrollment page shows once.
struct FirstVisit<'a> {
    email: &'a str,
    qr_svg: &'a str,
    secret: &'a str,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    chrome: Option<&'a Chrome>,
    codes: &'a [String],
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredPage<'a> {
    chrome: Option<&'a Chrome>,
}

/// A sign-in form page: the browser's pre-session (a new one if it holds none), and the
/// page rendered with its token.
fn with_pre_session(
    headers: &HeaderMap,
    status: StatusCode,
    page: impl FnOnce(&str) -> Response,
) -> Response {
    let (pre_session, is_new) = match PreSession::from_headers(headers) {
        Some(pre_session) => (pre_session, false),
        None => match PreSession::generate() {
            Ok(pre_session) => (pre_session, true),
            Err(error) => return PageError::from(error).into_response(),
        },
    };
    let mut response = page(&csrf::pre_session_form_token(&pre_session));
    *response.status_mut() = status;
    if is_new {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, pre_session.cookie());
    }
    response
}

async fn login_form(headers: HeaderMap) -> Response {
    with_pre_session(&headers, StatusCode::OK, |csrf| {
        page::render(
            StatusCode::OK,
            &LoginPage {
                chrome: None,
                csrf,
                email: "",
                problem: None,
            },
        )
    })
}

/// A sign-in form whose token matches the browser's pre-session; `None` for a forged
/// one (or a browser whose sign-in form expired).
async fn pre_session_form(
    request: Request,
    state: &AppState,
) -> Result<(HeaderMap, Fields), PageError> {
    let headers = request.headers().clone();
    let fields = Fields::from_request(request, state).await?;
    let expected = PreSession::from_headers(&headers).map(|pre| csrf::pre_session_form_token(&pre));
    match expected {
        Some(expected) if csrf::matches(fields.csrf(), &expected) => Ok((headers, fields)),
        _ => Err(PageError::Forgery),
    }
}

/// Answers a sign-in step that started `session`: its cookie, the pre-session's end, and
/// `next`.
fn signed_in(state: &AppState, session: &NewSession, next: Response) -> Response {
    let mut response = next;
    let lifetime = cookie_lifetime(&state.sessions, session.stage);
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session.token.cookie(lifetime));
    headers.append(header::SET_COOKIE, csrf::clear_pre_session());
    response
}

async fn log_in(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    request: Request,
) -> Result<Response, PageError> {
    let (headers, fields) = pre_session_form(request, &state).await?;
    let email = fields.get("email").unwrap_or("");
    let again = |status: StatusCode, problem: &str| {
        with_pre_session(&headers, status, |csrf| {
            page::render(
                status,
                &LoginPage {
                    chrome: None,
                    csrf,
                    email,
                    problem: Some(problem),
                },
            )
        })
    };
    let body = JsonBody::from_value(&json!({"email": email, "password": fields.raw("password")}));
    let Ok(request) = body.parse::<LoginRequest>() else {
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email and password.",
        ));
    };
    match login::login(&state, request, meta).await {
        Ok(session) => {
            let next = match session.stage {
                Stage::Complete { .. } => page::HOME,
                Stage::MfaPending | Stage::Enrolling => "/app/login/mfa",
            };
            Ok(signed_in(&state, &session, page::see_other(next)))
        }
        // The same words for an unknown email and a wrong password (NIST SP 800-63B).
        Err(ApiError::Unauthorized) => Ok(again(
            StatusCode::UNAUTHORIZED,
            "The email or the password is not right.",
        )),
        Err(ApiError::TooManyAttempts { .. }) => Ok(again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a few minutes before you try again.",
        )),
        Err(ApiError::Invalid(_) | ApiError::InvalidField { .. }) => Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email and password.",
        )),
        Err(error) => Err(error.into()),
    }
}

async fn second_factor_form(headers: HeaderMap) -> Response {
    let Ok(token) = csrf::session_cookie(&headers) else {
        return page::see_other(page::SIGN_IN);
    };
    page::render(
        StatusCode::OK,
        &SecondFactorPage {
            chrome: None,
            csrf: &csrf::session_form_token(&token),
            problem: None,
        },
    )
}

/// A form sent by a page of the session the cookie names (a pending one included): the
/// headers, the fields, and the form's token.
async fn session_form(
    request: Request,
    state: &AppState,
) -> Result<(HeaderMap, Fields, String), PageError> {
    let headers = request.headers().clone();
    // The cookie first: without a session there is no form to check.
    csrf::session_cookie(&headers).map_err(|_| PageError::SignIn)?;
    let fields = Fields::from_request(request, state).await?;
    let expected = checked_session_token(&headers, &fields)?;
    Ok((headers, fields, expected))
}

async fn second_factor(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    request: Request,
) -> Result<Response, PageError> {
    let (headers, fields, csrf) = session_form(request, &state).await?;
    let body = JsonBody::from_value(&json!({"code": fields.get("code").unwrap_or("")}));
    let request: MfaRequest = body.parse()?;
    match login::complete_mfa(&state, &headers, meta, request).await {
        Ok((session, _)) => Ok(signed_in(&state, &session, page::see_other(page::HOME))),
        Err(ApiError::Unauthorized | ApiError::Invalid(_) | ApiError::InvalidField { .. }) => {
            Ok(page::render(
                StatusCode::UNAUTHORIZED,
                &SecondFactorPage {
                    chrome: None,
                    csrf: &csrf,
                    problem: Some(
                        "That code is not right, or the sign-in took too long. Try the \
                         current code; after five wrong codes, sign in again.",
                    ),
                },
            ))
        }
        Err(error) => Err(error.into()),
    }
}

async fn log_out(
    State(state): State<AppState>,
    meta: RequestMeta,
    request: Request,
) -> Result<Response, PageError> {
    let (headers, _, _) = session_form(request, &state).await?;
    match login::logout(&state, &headers, meta).await {
        Ok(_) | Err(ApiError::Unauthorized) => {}
        Err(error) => return Err(error.into()),
    }
    let mut response = page::see_other(page::SIGN_IN);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(response)
}

async fn expired() -> Response {
    page::render(StatusCode::OK, &ExpiredPage { chrome: None })
}

async fn welcome_form(headers: HeaderMap) -> Response {
    with_pre_session(&headers, StatusCode::OK, |csrf| {
        page::render(
            StatusCode::OK,
            &WelcomePage {
                chrome: None,
                csrf,
                problem: None,
            },
        )
    })
}

/// The invitation's token comes in the form, typed or pasted: never in a URL, where it
/// would reach the browser's history and the logs of every proxy.
async fn welcome(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    request: Request,
) -> Result<Response, PageError> {
    let (headers, fields) = pre_session_form(request, &state).await?;
    let again = |status: StatusCode, problem: &str| {
        with_pre_session(&headers, status, |csrf| {
            page::render(
                status,
                &WelcomePage {
                    chrome: None,
                    csrf,
                    problem: Some(problem),
                },
            )
        })
    };
    let body = JsonBody::from_value(&json!({
        "token": fields.get("token").unwrap_or(""),
        "password": fields.raw("password"),
    }));
    let Ok(request) = body.parse() else {
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the invitation code and a password.",
        ));
    };
    match invitations::accept(&state, meta, request).await {
        Ok((session, accepted)) => {
            let csrf = csrf::session_form_token(&session.token);
            let qr = qr_svg(&accepted.totp_uri)?;
            let next = page::render(
                StatusCode::OK,
                &EnrollPage {
                    chrome: None,
                    csrf: &csrf,
                    first_visit: Some(FirstVisit {
                        email: &accepted.email,
                        qr_svg: &qr,
                        secret: &accepted.totp_secret,
                    }),
                    problem: None,
                },
            );
            Ok(signed_in(&state, &session, next))
        }
        Err(ApiError::Unauthorized) => Ok(again(
            StatusCode::UNAUTHORIZED,
            "This invitation code is not valid: it may have been used or have expired. Ask \
             your clinic's administrator for a new one.",
        )),
        Err(ApiError::InvalidField { rule, .. }) => {
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, rule))
        }
        Err(ApiError::Invalid(rule)) => Ok(again(StatusCode::UNPROCESSABLE_ENTITY, rule)),
        Err(ApiError::TooManyAttempts { .. }) => Ok(again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a few minutes before you try again.",
        )),
        Err(error) => Err(error.into()),
    }
}

async fn enroll(
    _: WithinRateLimit,
    State(state): State<AppState>,
    meta: RequestMeta,
    request: Request,
) -> Result<Response, PageError> {
    let (headers, fields, csrf) = session_form(request, &state).await?;
    let body = JsonBody::from_value(&json!({"code": fields.get("code").unwrap_or("")}));
    let request: MfaRequest = body.parse()?;
    match enrollment::confirm(&state, &headers, meta, request).await {
        Ok((session, _, codes)) => {
            let codes: Vec<String> = codes.iter().map(|code| code.reveal().to_owned()).collect();
            let next = page::render(
                StatusCode::OK,
                &RecoveryCodesPage {
                    chrome: None,
                    codes: &codes,
                },
            );
            Ok(signed_in(&state, &session, next))
        }
        // The secret is shown once: a wrong code may be tried again (the attempts are
        // counted, and the enrolling session ends after a few minutes), never with the
        // secret shown again.
        Err(ApiError::Unauthorized | ApiError::Invalid(_) | ApiError::InvalidField { .. }) => {
            Ok(page::render(
                StatusCode::UNAUTHORIZED,
                &EnrollPage {
                    chrome: None,
                    csrf: &csrf,
                    first_visit: None,
                    problem: Some(
                        "The code did not match. Enter the code your app shows now; if the \
                         enrollment has ended, ask your clinic's administrator for a new \
                         invitation or reset.",
                    ),
                },
            ))
        }
        Err(error) => Err(error.into()),
    }
}

/// The QR code of an `otpauth://` URI, as inline SVG drawn here: the TOTP secret it holds
/// goes to no QR service and no script.
fn qr_svg(uri: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|_| ApiError::Internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Inline in HTML, the XML declaration is noise.
    let svg = match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    };
    Ok(svg)
}
