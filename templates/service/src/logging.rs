//! Logs are one JSON object per line, ready for a log pipeline: on stdout while serving,
//! on stderr for the one-shot commands (whose results go to stdout). `RUST_LOG` sets the
//! level (default `info`).

use std::io;

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// Installs the JSON subscriber for the whole process, writing to stdout.
pub fn init() {
    // Fails only when a subscriber is already installed, and that one keeps logging.
    let _ = tracing::subscriber::set_global_default(json_subscriber(filter(), io::stdout));
}

/// Installs the JSON subscriber for the whole process, writing to stderr.
pub fn init_stderr() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(filter(), io::stderr));
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The service's log format, writing to `writer`; tests capture it to prove what a log
/// line holds.
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}
