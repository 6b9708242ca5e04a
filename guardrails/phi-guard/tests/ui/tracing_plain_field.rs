use phi_guard::Phi;

fn main() {
    let mrn = Phi::new(4_711_u64);
    tracing::error!(mrn, "lookup failed");
}
