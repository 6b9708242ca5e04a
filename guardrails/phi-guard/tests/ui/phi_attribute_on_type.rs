use phi_guard::{Phi, RedactedDebug};

#[derive(RedactedDebug)]
#[phi(redact)]
struct Patient {
    name: Phi<String>,
}

fn main() {}
