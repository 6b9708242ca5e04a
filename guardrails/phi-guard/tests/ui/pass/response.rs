#![deny(warnings)]

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use phi_guard::{OpaqueId, Phi, PhiJson, PhiResponse, SafePath};

#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Sex {
    Female,
}

#[derive(PhiResponse)]
struct PatientView {
    id: OpaqueId,
    name: Phi<String>,
    #[phi(rename = "dateOfBirth")]
    date_of_birth: Phi<String>,
    allergies: Vec<Phi<String>>,
    #[phi(serde)]
    sex: Sex,
}

#[derive(PhiResponse)]
struct Page<T> {
    items: Vec<T>,
    next_page: Option<u32>,
}

fn synthetic(id: OpaqueId) -> PatientView {
    PatientView {
        id,
        name: Phi::new("Synthetic Person".into()),
        date_of_birth: Phi::new("1970-01-01".into()),
        allergies: Vec::new(),
        sex: Sex::Female,
    }
}

async fn show(SafePath(id): SafePath<OpaqueId>) -> PhiJson<PatientView> {
    PhiJson(synthetic(id))
}

async fn list() -> PhiJson<Page<PatientView>> {
    PhiJson(Page { items: vec![synthetic(OpaqueId::from_u128(7))], next_page: None })
}

async fn create() -> (StatusCode, PhiJson<PatientView>) {
    (StatusCode::CREATED, PhiJson(synthetic(OpaqueId::from_u128(8))))
}

fn main() {
    let _app: Router = Router::new()
        .route("/patients", get(list).post(create))
        .route("/patients/{id}", get(show))
        .route("/patients/search", post(list));
}
