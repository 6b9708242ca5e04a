//! What a request can fail with, and what the client is told: a status and a fixed
//! message, never internals (OWASP ASVS 7.4.1). Database errors are logged by their
//! SQLSTATE and constraint name only: their messages and details quote the values, which
//! may be PHI. A request refused for one of its fields is told which field and which rule
//! it broke, never the value it sent.

use std::borrow::Cow;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No session, an ended session, or wrong credentials: the same answer for all, so it
    /// reveals nothing (NIST SP 800-63B).
    #[error("unauthorized")]
    Unauthorized,
    /// The session still owes its TOTP code (POST /auth/mfa).
    #[error("mfa required")]
    MfaRequired,
    /// The caller's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// No such record in the caller's clinic; records of other clinics are not found
    /// either, rather than forbidden, so their existence is not revealed.
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message names the rule, never the value.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// One field of the request breaks a rule: the answer names the field (as a path into
    /// the JSON body, e.g. `care_team[2]`) and the rule, never the value.
    #[error("invalid field {field}: {rule}")]
    InvalidField {
        field: Cow<'static, str>,
        rule: &'static str,
    },
    /// A browser request another site made, riding on the session cookie (cross-site
    /// request forgery). OWASP ASVS 4.2.2.
    #[error("cross-site request")]
    CrossSite,
    /// The body is over the limit (`middleware::MAX_BODY_BYTES`), however it was sent.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The headers together are over the limit (`middleware::MAX_HEADER_BYTES`).
    #[error("request headers too large")]
    HeadersTooLarge,
    /// The record conflicts with an existing one (e.g. a duplicate record number).
    #[error("conflict")]
    Conflict,
    /// The request breaks a rule about the clinic's state, named in the answer (e.g. the
    /// clinic's last admin cannot be demoted).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The change needs a second factor given in this session, more recently than it was
    /// (NIST SP 800-63B §4.2.3 reauthentication): sign in again.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// Too many failed attempts from this address for this account.
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The service is saturated (password hashing queue, database pool): try again.
    #[error("busy")]
    Busy,
    /// Anything else; logged, never described to the client.
    #[error("internal error")]
    Internal,
}

/// What every error answers, `{"error": "..."}`; an invalid field adds which one and the
/// rule it broke, `{"error": "invalid_field", "field": "mrn", "rule": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    error: &'static str,
    /// The field at fault, as a path into the request body (`care_team[2]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<Cow<'static, str>>,
    /// The rule that field broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'static str>,
}

impl ApiError {
    /// 429 with a `Retry-After` of `wait`, rounded up to whole seconds (a client that
    /// waits as told is not refused again), at least one.
    pub fn too_many_attempts(wait: chrono::Duration) -> Self {
        let millis = wait.num_milliseconds().saturating_add(999);
        Self::TooManyAttempts {
            retry_after_secs: u64::try_from(millis / 1000).unwrap_or(1).max(1),
        }
    }

    /// `field` breaks `rule`.
    pub fn invalid_field(field: impl Into<Cow<'static, str>>, rule: &'static str) -> Self {
        Self::InvalidField {
            field: field.into(),
            rule,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::MfaRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Invalid(_) | Self::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Conflict | Self::Refused(_) => StatusCode::CONFLICT,
            Self::ReauthenticationRequired => StatusCode::FORBIDDEN,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::MfaRequired => "mfa_required",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Invalid(rule) => rule,
            Self::InvalidField { .. } => "invalid_field",
            Self::CrossSite => "cross_site_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::HeadersTooLarge => "request_headers_too_large",
            Self::Conflict => "conflict",
            Self::Refused(rule) => rule,
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Busy => "busy",
            Self::Internal => "internal_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (field, rule) = match &self {
            Self::InvalidField { field, rule } => (Some(field.clone()), Some(*rule)),
            _ => (None, None),
        };
        let mut response = (
            self.status(),
            Json(ErrorBody {
                error: self.message(),
                field,
                rule,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::TooManyAttempts { retry_after_secs } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut => Self::Busy,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default().into_owned();
                match code.as_str() {
                    // unique_violation
                    "23505" => Self::Conflict,
                    // foreign_key_violation: the referenced record is not in this clinic.
                    "23503" => Self::NotFound,
                    // check_violation, and data exceptions (class 22): a value out of range.
                    "23514" => Self::Invalid("a value is out of range"),
                    code if code.starts_with("22") => Self::Invalid("a value is out of range"),
                    _ => {
                        tracing::error!(
                            sqlstate = %code,
                            constraint = db.constraint().unwrap_or(""),
                            "database error"
                        );
                        Self::Internal
                    }
                }
            }
            // The other variants describe the connection or the driver, not the data.
            other => {
                tracing::error!(error = %other, "database error");
                Self::Internal
            }
        }
    }
}
