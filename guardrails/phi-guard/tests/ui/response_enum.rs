use phi_guard::PhiResponse;

#[derive(PhiResponse)]
enum Status {
    Active,
    Archived,
}

fn main() {}
