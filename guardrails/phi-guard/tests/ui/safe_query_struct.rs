use phi_guard::{Phi, SafeQuery};

#[derive(serde::Deserialize)]
struct Search {
    name: Phi<String>,
    page: u32,
}

async fn search(SafeQuery(search): SafeQuery<Search>) -> &'static str {
    let _ = (search.name, search.page);
    "found"
}

fn main() {
    let _ = axum::Router::<()>::new().route("/patients", axum::routing::get(search));
}
