use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    let _ = serde_json::to_string(&name);
}
