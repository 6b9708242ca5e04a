//! Path and query extractors that only accept [`UrlSafe`] types.

// The generated project's clippy.toml bans the raw extractors (guardrails/clippy-bans.toml);
// this module is the one place that wraps them.
#![allow(
    clippy::disallowed_types,
    reason = "the safe extractors wrap the banned raw ones"
)]

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::url::UrlSafe;

/// Like `axum::extract::Path`, but `T` must be [`UrlSafe`], so a handler taking PHI from
/// the path does not compile. The bound sits on the struct, so the error points at the
/// handler's signature and says PHI (not axum's generic "`Handler` is not implemented").
///
/// ```
/// use phi_guard::{OpaqueId, SafePath};
///
/// async fn get_patient(SafePath(id): SafePath<OpaqueId>) -> String {
///     format!("patient {id}")
/// }
/// # let _ = axum::Router::<()>::new().route("/patients/{id}", axum::routing::get(get_patient));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SafePath<T: UrlSafe>(pub T);

/// Like `axum::extract::Query`, but `T` must be [`UrlSafe`]: search by PHI goes in a
/// JSON body (`POST /patients/search`), never in the query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeQuery<T: UrlSafe>(pub T);

/// A path or query string that did not parse. The body is fixed JSON
/// (`{"error": "invalid path parameter"}`), the shape of every other error the service
/// answers: axum's own rejection messages quote the offending input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRejection {
    /// The path parameters did not deserialize.
    Path(StatusCode),
    /// The query string did not deserialize.
    Query(StatusCode),
}

impl UrlRejection {
    /// The HTTP status axum chose for the failure (400 for bad input, 500 for a route
    /// without the expected parameters).
    pub fn status(&self) -> StatusCode {
        match *self {
            UrlRejection::Path(status) | UrlRejection::Query(status) => status,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            UrlRejection::Path(_) => "invalid path parameter",
            UrlRejection::Query(_) => "invalid query string",
        }
    }
}

impl std::fmt::Display for UrlRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for UrlRejection {}

impl IntoResponse for UrlRejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message() }).to_string();
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl From<PathRejection> for UrlRejection {
    fn from(rejection: PathRejection) -> Self {
        UrlRejection::Path(rejection.status())
    }
}

impl From<QueryRejection> for UrlRejection {
    fn from(rejection: QueryRejection) -> Self {
        UrlRejection::Query(rejection.status())
    }
}

impl<T, S> FromRequestParts<S> for SafePath<T>
where
    T: UrlSafe + DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = UrlRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(SafePath(value))
    }
}

impl<T, S> FromRequestParts<S> for SafeQuery<T>
where
    T: UrlSafe + DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = UrlRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(SafeQuery(value))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;
    use crate::OpaqueId;
    use crate::UrlSafe;

    #[derive(Deserialize, UrlSafe)]
    struct Paging {
        page: u32,
        archived: Option<bool>,
    }

    async fn show(
        SafePath(id): SafePath<OpaqueId>,
        SafeQuery(paging): SafeQuery<Paging>,
    ) -> String {
        format!("{id} {} {:?}", paging.page, paging.archived)
    }

    async fn call(uri: &str) -> (StatusCode, String) {
        let app = Router::new().route("/patients/{id}", get(show));
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn opaque_ids_and_paging_are_extracted() {
        let (status, body) = call("/patients/6f9619ff-8b86-d011-b42d-00c04fc964ff?page=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "6f9619ff-8b86-d011-b42d-00c04fc964ff 2 None");
    }

    #[tokio::test]
    async fn bad_path_is_rejected_without_echo() {
        let (status, body) = call("/patients/Synthetic%20Person?page=1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, r#"{"error":"invalid path parameter"}"#);
    }

    #[tokio::test]
    async fn bad_query_is_rejected_without_echo() {
        let (status, body) =
            call("/patients/6f9619ff-8b86-d011-b42d-00c04fc964ff?page=SyntheticName").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, r#"{"error":"invalid query string"}"#);
    }
}
