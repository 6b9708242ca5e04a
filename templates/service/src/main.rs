//! The binary: parses the command line and hands it to the library. The library is named
//! by the crate's name, which medforge fills in: the one templated line of `src/` outside
//! `policy.rs` and the module lists.

use std::process::ExitCode;

use clap::Parser;

use ::{{crate_name}}::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(Cli::parse()).await
}
