//! Compile-time guardrails for protected health information (PHI).
//!
//! Wrap PHI in [`Phi`] and the compiler refuses to let it reach a log line, a URL, a panic
//! message or any serialized form other than an API response body:
//!
//! - `Phi<T>` cannot be formatted (`{}`, `{:?}`, `format!`, `println!`, `panic!`, `tracing`,
//!   `log`, `#[derive(Debug)]`, `#[tracing::instrument]`) or serialized; the errors say PHI
//!   and what to do instead. Reading it is explicit: [`Phi::expose`]; comparing, hashing
//!   and mapping it without an `expose` in the name do not compile either.
//! - [`SafePath`], [`SafeQuery`] and [`SafeUrl`] accept only [`UrlSafe`] types, which PHI
//!   never is.
//! - [`PhiJson`] writes a [`ResponseBody`] (`#[derive(PhiResponse)]`) as JSON with
//!   `Cache-Control: no-store`, the one place `Phi` fields are serialized.
//! - `#[derive(RedactedDebug)]` gives PHI-holding types a `Debug` that prints
//!   `[PHI redacted]`.
//!
//! - With the `utoipa` feature, `Phi<T>` describes itself in OpenAPI documents as `T`,
//!   marked `"x-phi": true` ([`openapi`]).
//!
//! See `guardrails/README.md` for what these checks do not catch.
//!
//! ```
//! use phi_guard::{OpaqueId, Phi, PhiJson, PhiResponse, RedactedDebug, SafePath};
//!
//! #[derive(PhiResponse, RedactedDebug)]
//! struct PatientView {
//!     id: OpaqueId,
//!     name: Phi<String>,
//! }
//!
//! async fn get_patient(SafePath(id): SafePath<OpaqueId>) -> PhiJson<PatientView> {
//!     let patient = PatientView { id, name: Phi::new("Synthetic Person".into()) };
//!     assert!(format!("{patient:?}").contains("[PHI redacted]"));
//!     PhiJson(patient)
//! }
//! # let _ = axum::Router::<()>::new().route("/patients/{id}", axum::routing::get(get_patient));
//! ```

// The derives expand to `::phi_guard::…`, which must also resolve inside this crate's tests.
extern crate self as phi_guard;

mod extract;
mod id;
#[cfg(feature = "utoipa")]
pub mod openapi;
mod phi;
mod response;
mod url;

pub use crate::extract::{SafePath, SafeQuery, UrlRejection};
pub use crate::id::{OpaqueId, ParseOpaqueIdError};
pub use crate::phi::{
    Phi, PhiMustBeReadExplicitly, PhiMustNotBeFormatted, PhiMustNotBeSerialized, REDACTED, Redacted,
};
pub use crate::response::{PhiJson, ResponseBody, ResponseToken};
pub use crate::url::{SafeUrl, UrlSafe};

/// Derives [`ResponseBody`] for a struct with named fields: `Phi` fields are exposed when
/// (and only when) the struct is written by [`PhiJson`]. Field attributes:
/// `#[phi(rename = "name")]`, and `#[phi(serde)]` to write a field that is not a
/// `ResponseBody` with its `Serialize` impl. The struct also gets a `Serialize` impl that
/// never compiles, so `serde_json::to_string(&value)` fails with a PHI message.
pub use phi_guard_macros::PhiResponse;
/// Derives `Debug` printing `[PHI redacted]` for every field whose type mentions `Phi`
/// (or that is marked `#[phi(redact)]`) and the other fields as usual.
pub use phi_guard_macros::RedactedDebug;
/// Derives [`UrlSafe`] with a `FieldType: UrlSafe` bound for every field, so a type
/// holding PHI cannot derive it.
pub use phi_guard_macros::UrlSafe;

/// What the derives expand to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::phi::{ResponseOnly, debug_field};
    pub use crate::response::derive_support::{field, serde_field};
    pub use serde;
}
