use phi_guard::PhiJson;

#[derive(serde::Serialize)]
struct Stats {
    patients: u64,
}

async fn stats() -> PhiJson<Stats> {
    PhiJson(Stats { patients: 3 })
}

fn main() {
    let _ = axum::Router::<()>::new().route("/stats", axum::routing::get(stats));
}
