use std::fmt::Write;

use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    let mut out = String::new();
    write!(out, "{}", name).unwrap();
}
