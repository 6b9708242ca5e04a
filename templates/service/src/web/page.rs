//! What every page shares: the headers it is sent with, the frame around it (who is
//! signed in, the links their role may follow, the form token of the sign-out button),
//! and the pages of a refusal.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::roles::{Action, Resource, Role};
use crate::auth::session::clear_cookie;
use crate::error::ApiError;

/// The pages' Content Security Policy: nothing loads but this origin's stylesheet and
/// images, no script runs at all (there is none, and no inline code would be allowed),
/// forms post only here, and no other site frames a page (OWASP ASVS 14.4.3, 3.4.3).
/// Every response of the API keeps the stricter `default-src 'none'` of
/// `src/middleware/security_headers.rs`.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages' referrer policy. The API's `no-referrer` would make a browser send
/// `Origin: null` with the pages' own form posts (Fetch, "serializing a request origin"),
/// which the cross-site refusal must treat as another site's. `same-origin` sends the
/// origin to this service and nothing at all to any other site: the URLs hold only ids,
/// and they still never leave.
pub const PAGE_REFERRER_POLICY: &str = "same-origin";

/// Where a signed-in browser starts: the pages pick the role's own start from here.
pub const HOME: &str = "/app";

/// The page a browser is sent to without a session.
pub const SIGN_IN: &str = "/app/login";

/// The frame around a signed-in page.
pub struct Chrome {
    pub email: String,
    pub role: Role,
    /// The token the page's forms carry (the sign-out button's too).
    pub csrf: String,
    pub nav: Vec<NavLink>,
    /// Which of `nav` is this page, by its `href`.
    pub current: &'static str,
}

/// A link of the navigation bar.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
}

impl Chrome {
    /// The frame of `role`'s pages: a link to each part of the interface the role matrix
    /// lets it into, nothing else.
    pub fn new(email: String, role: Role, csrf: String) -> Self {
        let mut nav = Vec::new();
        if role.may(Action::Read, Resource::Patients) {
            nav.push(NavLink {
                href: "/app/patients",
                label: "Patients",
            });
        }
        if role.may(Action::Read, Resource::AuditTrail) {
            nav.push(NavLink {
                href: "/app/audit",
                label: "Audit trail",
            });
        }
        if role.may(Action::Read, Resource::Accounts) {
            nav.push(NavLink {
                href: "/app/admin",
                label: "Accounts",
            });
        }
        // The resources added with `medforge add resource` that belong to no patient.
        // medforge:resource-nav:start
        // medforge:resource-nav:end
        nav.push(NavLink {
            href: "/app/account",
            label: "My account",
        });
        Self {
            email,
            role,
            csrf,
            nav,
            current: "",
        }
    }

    /// The same frame, with `href` marked as the current page.
    pub fn at(mut self, href: &'static str) -> Self {
        self.current = href;
        self
    }

    /// Where `role` starts after signing in.
    pub fn start_of(role: Role) -> &'static str {
        if role.may(Action::Read, Resource::Patients) {
            "/app/patients"
        } else if role.may(Action::Read, Resource::AuditTrail) {
            "/app/audit"
        } else if role.may(Action::Read, Resource::Accounts) {
            "/app/admin"
        } else {
            "/app/account"
        }
    }
}

/// A part of a patient's page from one of the enabled modules, rendered by its module.
pub struct Section {
    pub html: String,
}

/// A page: `template` rendered, as HTML, with [`PAGE_CSP`]. Every response is also
/// `no-store` (the middleware's, OWASP ASVS 8.2.1): a page shows PHI.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static(PAGE_REFERRER_POLICY),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            ApiError::Internal.into_response()
        }
    }
}

/// `303 See Other` to `to`: after a form, the browser loads the next page with a GET, so
/// a reload does not send the form again.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// No session: the sign-in page.
    SignIn,
    /// The session presented has ended (idle, absolute timeout, revoked): say so, and
    /// drop the cookie.
    Expired,
    /// The session still owes its second factor.
    SecondFactor,
    /// A form without this session's token, or with another's.
    Forgery,
    /// Anything the flows refused, shown as a page with the API's status.
    Api(ApiError),
}

impl From<sqlx::Error> for PageError {
    fn from(error: sqlx::Error) -> Self {
        Self::Api(error.into())
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Option<&'a Chrome>,
    title: &'a str,
    message: &'a str,
    /// Where the page's one link leads.
    back: &'a str,
}

/// A page of `title` and `message` in the signed-in frame, with a link to `back`: what a
/// form did, when there is nothing else to show.
pub fn notice(
    chrome: &Chrome,
    status: StatusCode,
    title: &str,
    message: &str,
    back: &str,
) -> Response {
    render(
        status,
        &ErrorPage {
            chrome: Some(chrome),
            title,
            message,
            back,
        },
    )
}

/// A page of `title` and `message`, without the signed-in frame (the error may be that
/// there is no session).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            chrome: None,
            title,
            message,
            back: HOME,
        },
    )
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => see_other(SIGN_IN),
            Self::SecondFactor => see_other("/app/login/mfa"),
            Self::Expired => {
                let mut response = see_other("/app/expired");
                response
                    .headers_mut()
                    .insert(header::SET_COOKIE, clear_cookie());
                response
            }
            Self::Forgery => error_page(
                StatusCode::FORBIDDEN,
                "The form has expired",
                "This form was not sent from a page of this session. Go back, reload the \
                 page and send it again.",
            ),
            Self::Api(error) => {
                let status = error.status();
                let (title, message) = match error {
                    ApiError::Unauthorized | ApiError::MfaRequired => {
                        return see_other(SIGN_IN);
                    }
                    ApiError::Forbidden => (
                        "Not available to your role",
                        "Your role does not give access to this page. The attempt is in the \
                         audit trail.",
                    ),
                    ApiError::NotFound => (
                        "Not found",
                        "There is no such record in your clinic, or you may not see it.",
                    ),
                    ApiError::ReauthenticationRequired => (
                        "Sign in again",
                        "This change needs a recent second factor. Sign out, sign in again \
                         and repeat it.",
                    ),
                    ApiError::TooManyAttempts { .. } => (
                        "Too many attempts",
                        "Too many attempts in a short time. Wait a few minutes and try \
                         again.",
                    ),
                    ApiError::CrossSite => (
                        "Refused",
                        "This request came from another site and was refused.",
                    ),
                    ApiError::Busy => ("Busy", "The service is busy. Try again in a moment."),
                    ApiError::Invalid(rule) | ApiError::Refused(rule) => ("Not done", rule),
                    ApiError::InvalidField { rule, .. } => ("Not done", rule),
                    ApiError::Conflict => ("Not done", "This conflicts with an existing record."),
                    ApiError::PayloadTooLarge | ApiError::HeadersTooLarge => {
                        ("Too large", "The request is too large.")
                    }
                    ApiError::Internal => (
                        "Something went wrong",
                        "The service could not complete this. It has been logged; try \
                         again later.",
                    ),
                };
                error_page(status, title, message)
            }
        }
    }
}
