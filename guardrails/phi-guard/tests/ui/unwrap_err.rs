use phi_guard::Phi;

fn find(name: Phi<String>) -> Result<u32, Phi<String>> {
    Err(name)
}

fn main() {
    // `unwrap` panics with the error's `Debug` output.
    let _ = find(Phi::new(String::from("Synthetic Person"))).unwrap();
}
