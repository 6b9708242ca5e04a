#![deny(warnings)]

use phi_guard::Phi;

fn greeting(name: &Phi<String>) -> String {
    // Reading PHI is explicit and greppable: `expose`.
    format!("Hello, {}", name.expose())
}

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    assert_eq!(greeting(&name), "Hello, Synthetic Person");
    let upper = name.clone().map_exposed(|name| name.to_uppercase());
    assert_eq!(upper.into_exposed(), "SYNTHETIC PERSON");
    assert!(name.expose() == Phi::new(String::from("Synthetic Person")).expose());
}
