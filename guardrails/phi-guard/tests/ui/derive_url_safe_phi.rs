use phi_guard::{Phi, UrlSafe};

#[derive(UrlSafe)]
struct Search {
    page: u32,
    name: Phi<String>,
}

fn main() {
    let _ = Search { page: 1, name: Phi::new(String::from("Synthetic Person")) };
}
