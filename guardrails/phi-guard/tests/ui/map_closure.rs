use phi_guard::Phi;

// `map` would hand the closure the raw name with no `expose` for a reviewer to find.
fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    let _ = name.map(|n| {
        tracing::info!(patient = %n, "admitted");
        n
    });
}
