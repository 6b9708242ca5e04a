use phi_guard::Phi;

// Generic code is checked too: rustc may suggest bounding `T`, but no type satisfies the
// bound, so such a function could never be called.
fn describe<T>(value: &Phi<T>) -> String {
    format!("{value:?}")
}

fn main() {
    let _ = describe(&Phi::new(1_u8));
}
