//! What the service logs during a test, captured for the tests that check it holds no
//! PHI and no secret.

use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;

pub struct LogCapture {
    pub captured: Captured,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl LogCapture {
    /// Captures what `logging::json_subscriber` writes at `filter` (e.g. `info`).
    pub fn start(filter: &str) -> Self {
        let captured = Captured::default();
        let dispatch = tracing::Dispatch::new(::service::logging::json_subscriber(
            tracing_subscriber::EnvFilter::new(filter),
            captured.clone(),
        ));
        // tracing caches whether a log statement is enabled, process-wide. With a single
        // scoped subscriber it asks only the calling thread's, so a statement first reached
        // by another test's thread would stay off for this one too. A second live
        // dispatcher makes it ask every live subscriber, this one included.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        Self {
            captured,
            _guard: tracing::dispatcher::set_default(&dispatch),
            _second: second,
        }
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        self.captured.text()
    }
}

/// Collects everything a log subscriber writes (see `logging::json_subscriber`).
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8(bytes).expect("logs are UTF-8")
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Captured {
    type Writer = Self;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}
