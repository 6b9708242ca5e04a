use phi_guard::SafePath;

// Free text is not `UrlSafe` even unwrapped: it is where names and record numbers hide.
async fn find(SafePath(mrn): SafePath<String>) -> &'static str {
    let _ = mrn;
    "found"
}

fn main() {
    let _ = axum::Router::<()>::new().route("/patients/by-mrn/{mrn}", axum::routing::get(find));
}
