//! medforge: a secure-by-default scaffolding generator for healthcare services.
//!
//! The binary is a thin shell over this library: [`generate::new_project`] takes a
//! [`generate::NewArgs`], so the CLI and the tests drive the same path.

// No `unsafe` here: the binary's one use (src/main.rs) is all there is.
#![forbid(unsafe_code)]

pub mod add;
pub mod answers;
pub mod check;
pub mod cli;
pub mod db;
pub mod doctor;
pub mod error;
pub mod fs;
pub mod generate;
pub mod inventory;
pub mod lockfile;
pub mod merge;
pub mod name;
pub mod options;
pub mod policy;
pub mod prepare;
pub mod prompt;
pub mod record;
pub mod render;
pub mod sarif;
pub mod schema;
pub mod steps;
pub mod template;
pub mod tools;
pub mod update;
