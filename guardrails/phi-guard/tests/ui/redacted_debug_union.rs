use phi_guard::RedactedDebug;

#[derive(RedactedDebug)]
union Key {
    id: u64,
    page: u32,
}

fn main() {}
