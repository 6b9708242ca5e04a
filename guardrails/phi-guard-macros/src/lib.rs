//! Derives for `phi-guard`. Depend on `phi-guard`, which re-exports them next to the traits
//! they implement; the expansions refer to `::phi_guard`.
//!
//! This file only declares the macros: attributes are parsed in `attr`, bounds and the
//! PHI type check live in `bound`, and each derive expands in its own module.

mod attr;
mod bound;
mod redacted_debug;
mod response;
mod url_safe;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// `Debug` that prints `[PHI redacted]` for every field whose type mentions `Phi` or that is
/// marked `#[phi(redact)]`.
#[proc_macro_derive(RedactedDebug, attributes(phi))]
pub fn derive_redacted_debug(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    redacted_debug::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `phi_guard::ResponseBody` for a struct with named fields, plus a `Serialize` impl that
/// never compiles.
#[proc_macro_derive(PhiResponse, attributes(phi))]
pub fn derive_phi_response(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    response::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `phi_guard::UrlSafe`, bounded by `FieldType: UrlSafe` for every field.
#[proc_macro_derive(UrlSafe)]
pub fn derive_url_safe(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    url_safe::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
