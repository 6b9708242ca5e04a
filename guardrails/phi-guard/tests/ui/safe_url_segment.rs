use phi_guard::{Phi, SafeUrl};

fn main() {
    let mrn = Phi::new(4_711_u64);
    let _ = SafeUrl::new("/patients/by-mrn").segment(mrn);
}
