use phi_guard::UrlSafe;

#[derive(UrlSafe)]
union Key {
    id: u64,
    page: u32,
}

fn main() {}
