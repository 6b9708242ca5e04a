use phi_guard::{Phi, SafePath};

async fn find_by_name(SafePath(name): SafePath<Phi<String>>) -> &'static str {
    let _ = name;
    "found"
}

fn main() {
    let _ = axum::Router::<()>::new().route("/patients/by-name/{name}", axum::routing::get(find_by_name));
}
