use phi_guard::{SafeQuery, SafeUrl, UrlSafe};

// Free text is not `UrlSafe` even unwrapped: a name or record number in a `String` must not
// reach a URL, whether read from the query string, derived into a query type or built in.
// (`SafePath<String>` is `safe_path_string`.)
#[derive(serde::Deserialize, UrlSafe)]
struct Search {
    page: u32,
    name: String,
}

async fn search(SafeQuery(name): SafeQuery<String>) {
    let _ = name;
}

fn main() {
    let name = String::from("Synthetic Person");
    let _ = SafeUrl::new("/patients").segment(name.clone());
    let _ = SafeUrl::new("/patients").query("name", name.clone());
    let _ = SafeUrl::new("/patients").query("name", name.as_str());
    let _ = (search, Search { page: 1, name });
}
