use phi_guard::Phi;

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    log::warn!("duplicate record {:?}", name);
}
