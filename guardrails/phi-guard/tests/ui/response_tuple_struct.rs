use phi_guard::{Phi, PhiResponse};

#[derive(PhiResponse)]
struct Name(Phi<String>);

fn main() {}
