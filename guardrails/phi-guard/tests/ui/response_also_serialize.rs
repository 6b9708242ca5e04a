use phi_guard::{Phi, PhiResponse};

// Deriving `Serialize` next to `PhiResponse` would let the struct be serialized anywhere.
#[derive(PhiResponse, serde::Serialize)]
struct PatientView {
    id: u64,
    name: Phi<String>,
}

fn main() {}
