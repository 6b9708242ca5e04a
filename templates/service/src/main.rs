//! The `{{crate_name}}` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

use ::{{crate_name}}::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(Cli::parse()).await
}
