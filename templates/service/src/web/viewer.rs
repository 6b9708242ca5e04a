//! Who a page is for: [`Viewer`], the API's [`Caller`] made from the session cookie, with
//! the page's frame; and [`Posted`], a viewer's form whose token was checked first.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::csrf;
use super::form::Fields;
use super::page::{Chrome, PageError};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in user of a page, as the API's [`Caller`]: the same live, complete
/// session, the same clinic-scoped transaction and audit context, the same role.
pub struct Viewer {
    pub caller: Caller,
    pub chrome: Chrome,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let token = csrf::session_cookie(&parts.headers).map_err(|_| PageError::SignIn)?;
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => {
                let chrome = Chrome::new(
                    caller.user.email.clone(),
                    caller.user.role,
                    csrf::session_form_token(&token),
                );
                Ok(Self { caller, chrome })
            }
            // A cookie whose session is over: timed out, revoked, or its account disabled.
            Err(ApiError::Unauthorized) => Err(PageError::Expired),
            Err(ApiError::MfaRequired) => Err(PageError::SecondFactor),
            Err(error) => Err(error.into()),
        }
    }
}

/// A form a signed-in page sent: its token matched the session's before anything else
/// happened (no transaction, no audit event, no flow for a forged request).
pub struct Posted {
    pub viewer: Viewer,
    pub fields: Fields,
}

impl FromRequest<AppState> for Posted {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        // The cookie first: without a session there is no form to check.
        csrf::session_cookie(request.headers()).map_err(|_| PageError::SignIn)?;
        let (mut parts, body) = request.into_parts();
        let fields = read_form(&parts, body, state).await?;
        checked_session_token(&parts.headers, &fields)?;
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        Ok(Self { viewer, fields })
    }
}

/// The form token of the session whose cookie `headers` present, when `fields` carry
/// it; a form without it, or with another session's, is a forgery.
pub fn checked_session_token(headers: &HeaderMap, fields: &Fields) -> Result<String, PageError> {
    let token = csrf::session_cookie(headers).map_err(|_| PageError::SignIn)?;
    let expected = csrf::session_form_token(&token);
    if !csrf::matches(fields.csrf(), &expected) {
        tracing::warn!("a page form without this session's token was refused");
        return Err(PageError::Forgery);
    }
    Ok(expected)
}

/// The form of a request split into `parts` and `body`.
pub async fn read_form(
    parts: &Parts,
    body: axum::body::Body,
    state: &AppState,
) -> Result<Fields, PageError> {
    let mut request = Request::new(body);
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    Ok(Fields::from_request(request, state).await?)
}
