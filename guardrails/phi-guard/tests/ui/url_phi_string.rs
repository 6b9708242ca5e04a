use phi_guard::{Phi, SafeQuery, SafeUrl};

// PHI text in every URL position but the path (`safe_path_phi`) and a derived field
// (`derive_url_safe_phi`).
async fn search(SafeQuery(name): SafeQuery<Phi<String>>) {
    let _ = name;
}

fn main() {
    let name = Phi::new(String::from("Synthetic Person"));
    let _ = SafeUrl::new("/patients").segment(name.clone());
    let _ = SafeUrl::new("/patients").query("name", name);
    let _ = search;
}
