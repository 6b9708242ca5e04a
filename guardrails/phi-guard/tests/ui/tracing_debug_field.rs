use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    tracing::warn!(patient = ?name, "admitted");
}
