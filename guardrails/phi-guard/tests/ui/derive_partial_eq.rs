use phi_guard::Phi;

// A derived `==` compares the PHI field without an `expose`.
#[derive(PartialEq)]
struct Patient {
    ward: u32,
    name: Phi<String>,
}

fn main() {
    let _ = Patient { ward: 3, name: Phi::new(String::from("Synthetic Person")) };
}
