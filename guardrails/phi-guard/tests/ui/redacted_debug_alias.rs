use phi_guard::{Phi, RedactedDebug};

// The alias hides `Phi` from the derive, so the field is printed with `Debug`: which fails.
type Name = Phi<String>;

#[derive(RedactedDebug)]
struct Patient {
    id: u64,
    name: Name,
}

fn main() {
    let _ = Patient { id: 1, name: Phi::new(String::from("Synthetic Person")) };
}
