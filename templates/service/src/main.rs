//! Starts the service: logging, configuration, serve. Everything else is in the library.

use std::process::ExitCode;

use {{crate_name}}::{config, logging, serve};

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let config = match config::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "refusing to start");
            return ExitCode::from(2);
        }
    };
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped");
            ExitCode::FAILURE
        }
    }
}
