use phi_guard::{Phi, PhiResponse};

#[derive(PhiResponse)]
struct PatientView {
    id: u64,
    name: Phi<String>,
}

fn main() {
    let view = PatientView { id: 1, name: Phi::new(String::from("Synthetic Person")) };
    // Fine inside `PhiJson(view)`; anywhere else it is PHI leaving the service.
    let _ = serde_json::to_string(&view);
}
