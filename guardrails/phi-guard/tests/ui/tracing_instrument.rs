use phi_guard::Phi;

// `instrument` records every argument that is not skipped with `Debug`.
#[tracing::instrument]
fn admit(ward: u32, patient: Phi<String>) {
    let _ = (ward, patient);
}

fn main() {
    admit(3, Phi::new(String::from("Synthetic Person")));
}
