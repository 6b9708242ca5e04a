//! A cap on the size of a request's headers. The HTTP server reads up to about 400 KB of
//! them, and a request holds its headers for its whole life: a few thousand slow requests
//! with oversized headers would hold gigabytes. Browsers and API clients send a few
//! kilobytes, cookies included. OWASP API Security Top 10 API4:2023 (unrestricted resource
//! consumption); RFC 6585 section 5.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// The largest total of header names and values accepted, counted as on the wire
/// (`name: value` and the line end), in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Answers 431 Request Header Fields Too Large to a request whose headers are over
/// [`MAX_HEADER_BYTES`], before anything else reads them.
pub async fn limit_headers(request: Request, next: Next) -> Response {
    let size = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len())
        .sum::<usize>();
    if size > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge.into_response();
    }
    next.run(request).await
}
