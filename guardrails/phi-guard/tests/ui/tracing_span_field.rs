use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    let _span = tracing::info_span!("visit", patient = %name).entered();
}
