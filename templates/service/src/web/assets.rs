//! The interface's stylesheet, served from this origin (the pages' CSP allows no other):
//! no CDN, no web font, nothing a third party could change or learn from.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The stylesheet, compiled into the binary.
pub const STYLESHEET: &str = include_str!("assets/app.css");

/// Where the pages load it from.
pub const STYLESHEET_PATH: &str = "/app/assets/app.css";

/// The pages' icon, so browsers do not ask for a `/favicon.ico` that does not exist.
pub const ICON: &str = include_str!("assets/icon.svg");

/// Where the pages load the icon from.
pub const ICON_PATH: &str = "/app/assets/icon.svg";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            STYLESHEET_PATH,
            get(|| async { asset(STYLESHEET, "text/css; charset=utf-8") }),
        )
        .route(ICON_PATH, get(|| async { asset(ICON, "image/svg+xml") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // It holds no PHI: browsers may keep it for an hour (every other response is no-store).
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
