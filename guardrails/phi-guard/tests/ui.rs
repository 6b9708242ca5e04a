//! Compile-fail cases (`tests/ui/*.rs`, each with the rustc output it must produce beside it)
//! and compile-pass cases (`tests/ui/pass/*.rs`, built and run).
//!
//! The `.stderr` files depend on the pinned toolchain; regenerate them with
//! `TRYBUILD=overwrite cargo test -p phi-guard --test ui` and read every one.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
