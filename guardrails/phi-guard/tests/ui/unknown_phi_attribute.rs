use phi_guard::{Phi, RedactedDebug};

#[derive(RedactedDebug)]
struct Patient {
    #[phi(hide)]
    name: Phi<String>,
}

fn main() {}
