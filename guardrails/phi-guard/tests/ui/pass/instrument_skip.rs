#![deny(warnings)]

use phi_guard::{OpaqueId, Phi};
use tracing::instrument;

#[instrument(skip(name))]
fn rename(patient: OpaqueId, name: Phi<String>) -> usize {
    name.expose().len()
}

#[instrument(skip_all, fields(patient = %patient))]
fn admit(patient: OpaqueId, name: Phi<String>, ward: u32) -> u32 {
    let _ = name;
    ward
}

fn main() {
    assert_eq!(rename(OpaqueId::from_u128(1), Phi::new("Synthetic".into())), 9);
    assert_eq!(admit(OpaqueId::from_u128(1), Phi::new("Synthetic".into()), 3), 3);
}
