//! The steps of long work (`medforge add resource`, `medforge db prepare`): a throwaway
//! cluster started, migrated, `cargo sqlx prepare` run. Each takes seconds to minutes, so
//! on a terminal each is shown as it starts and ends; with `--json` they are reported in
//! the final document instead.

use std::time::Instant;

use serde::Serialize;

use crate::error::Result;

/// One step of the work, as `--json` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: &'static str,
    pub what: String,
    pub ok: bool,
    pub seconds: f64,
}

/// The steps as they happen: on a terminal each is shown as it starts and ends; all are
/// kept for the report.
pub struct Steps {
    show: bool,
    done: Vec<StepReport>,
}

impl Steps {
    /// `show`: print each step on stderr (a terminal, and not `--json`).
    pub fn new(show: bool) -> Steps {
        Steps {
            show,
            done: Vec::new(),
        }
    }

    /// Runs `work` as step `step`, described by `what`.
    pub fn run<T>(
        &mut self,
        step: &'static str,
        what: &str,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        if self.show {
            eprint!("  {what} ...");
        }
        let started = Instant::now();
        let result = work();
        let seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
        if self.show {
            let verdict = if result.is_ok() { "done" } else { "failed" };
            eprintln!(" {verdict} ({seconds:.1} s)");
        }
        self.done.push(StepReport {
            step,
            what: what.to_owned(),
            ok: result.is_ok(),
            seconds,
        });
        result
    }

    pub fn reports(&self) -> &[StepReport] {
        &self.done
    }
}
