use phi_guard::{Phi, SafeUrl};

fn main() {
    let dob = Phi::new(19_700_101_u32);
    let _ = SafeUrl::new("/patients").query("dob", dob);
}
