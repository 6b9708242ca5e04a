use phi_guard::Phi;

#[derive(Debug)]
struct Patient {
    id: u64,
    name: Phi<String>,
}

fn main() {
    let patient = Patient { id: 1, name: Phi::new(String::from("Synthetic Person")) };
    let _ = patient.id;
    let _ = patient.name;
}
