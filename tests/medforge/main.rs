//! medforge's integration tests: one binary, a module per area, so the suite links once.
//! Most run the real `medforge` binary the way a script or an AI agent would (support).
//!
//! The fast tier is everything but `slow::` (no PostgreSQL, no build of a generated
//! project): `cargo test --workspace -- --skip slow::`. `cargo test --workspace`, what
//! `.ci/run` runs, is the whole suite.

// All of this crate is test code, its helpers included (clippy.toml's
// `allow-unwrap-in-tests` only sees `#[test]` functions): a panic here is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

mod add;
mod check;
mod cli;
mod compliance;
mod db;
mod snapshots;
mod update;

mod slow;
