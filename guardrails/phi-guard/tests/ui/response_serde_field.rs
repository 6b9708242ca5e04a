use phi_guard::{Phi, PhiResponse};

#[derive(PhiResponse)]
struct PatientView {
    id: u64,
    // `serde` writes the field with `Serialize`, which PHI never has.
    #[phi(serde)]
    name: Phi<String>,
}

fn main() {
    let _ = PatientView { id: 1, name: Phi::new(String::from("Synthetic Person")) };
}
