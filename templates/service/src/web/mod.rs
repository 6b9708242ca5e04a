//! The web interface for clinic staff (`ui = web`): pages the service renders itself, on
//! the API's own origin, so nobody needs to write the single-page front end of the
//! incidents this project exists to prevent (tokens in local storage, access control in
//! browser JavaScript, analytics scripts reading patient forms).
//!
//! - The pages call the same flows, model functions and audit code as the API
//!   ([`crate::auth::login`], [`crate::accounts`], [`crate::models`], [`crate::auth::Caller`]):
//!   the role matrix of `src/auth/roles.rs` decides here as there, and every access is
//!   on the record the same way (HIPAA 164.312(b)).
//! - Templates are compiled and checked with the crate (askama) and HTML-escape every
//!   value; there is no JavaScript at all, and the stylesheet is served from this origin.
//! - Every page carries [`page::PAGE_CSP`] and `no-store`; the session is the API's
//!   `__Host-` cookie; every form carries a token bound to the session ([`csrf`]), checked
//!   on every POST beside the cross-site refusal of `src/middleware/cross_site.rs`
//!   (OWASP ASVS 4.2.2, 3.5.3). Ids are the only thing in a URL; search is POSTed.
//!
//! Everything lives under `/app/`; `GET /` leads there.

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use crate::state::AppState;

pub mod account;
pub mod admin;
{%- if modules contains "appointments" %}
pub mod appointments;
{%- endif %}
pub mod assets;
pub mod audit_trail;
pub mod csrf;
{%- if modules contains "encounters" %}
pub mod encounters;
{%- endif %}
pub mod form;
{%- if modules contains "notes" %}
pub mod notes;
{%- endif %}
pub mod page;
pub mod patients;
pub mod resource_pages;
pub mod sections;
pub mod sign_in;
pub mod viewer;
// The pages of the resources added with `medforge add resource`, which writes between
// these lines.
// medforge:resource-page-modules:start
// medforge:resource-page-modules:end

/// The pages, to merge beside the API's routes.
pub fn router() -> Router<AppState> {
    #[allow(
        clippy::let_and_return,
        reason = "the pages of added resources merge in between"
    )]
    let router = Router::new()
        .route("/", get(|| async { Redirect::to(page::HOME) }))
        .merge(assets::router())
        .merge(sign_in::router())
        .merge(patients::router())
        .merge(audit_trail::router())
        .merge(account::router())
        .merge(admin::router())
{%- if modules contains "notes" %}
        .merge(notes::router())
{%- endif %};
    // medforge:resource-page-routes:start
    // medforge:resource-page-routes:end
    router
}

/// The sections of a patient's page that come from the enabled modules, each only for a
/// role that may read it: staff get no notes section at all.
pub(crate) async fn patient_sections(
    caller: &mut crate::auth::Caller,
    patient: crate::ids::PatientId,
    csrf: &str,
) -> Result<Vec<page::Section>, crate::error::ApiError> {
    #[allow(
        unused_mut,
        reason = "a project without clinical modules adds no section"
    )]
    let mut sections = Vec::new();
{%- if modules contains "encounters" %}
    sections.extend(encounters::section(caller, patient).await?);
{%- endif %}
{%- if modules contains "appointments" %}
    sections.extend(appointments::section(caller, patient).await?);
{%- endif %}
{%- if modules contains "notes" %}
    sections.extend(notes::section(caller, patient, csrf).await?);
{%- else %}
    let _ = csrf;
{%- endif %}
    // medforge:resource-sections:start
    // medforge:resource-sections:end
    let _ = (caller, patient);
    Ok(sections)
}
