#![deny(warnings)]

use phi_guard::{OpaqueId, Phi, Redacted};

fn main() {
    let id = OpaqueId::from_u128(42);
    let name = Phi::new(String::from("Synthetic Person"));
    // Opaque ids are what logs identify patients by.
    tracing::info!(patient = %id, "chart opened");
    tracing::info!(patient = ?id, name = %Redacted, "chart opened");
    log::info!("chart {id} opened");
    let _ = name;
}
