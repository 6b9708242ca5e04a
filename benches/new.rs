//! How long `medforge new` takes for the default configuration, against plain
//! cargo-generate rendering of the same template with the same answers, measured side by
//! side in one run. Run with `bash bench/run` (or `cargo bench --bench new`).
//!
//! Target: under 100 ms per project on a 2-core machine.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use medforge::answers::Answers;
use medforge::generate::{NewArgs, new_project};
use medforge::template::TemplateSource;

const RUNS: usize = 20;

fn main() -> ExitCode {
    // cargo-generate needs a user name; where none is set, the bench runs again with the
    // one medforge's binary would set (setting it here would take `unsafe`).
    if let Some((name, value)) = medforge::render::author_fallback() {
        let status = Command::new(std::env::current_exe().expect("the bench's own path"))
            .args(std::env::args_os().skip(1))
            .env(name, value)
            .status()
            .expect("the bench runs again");
        let code = status.code().and_then(|code| u8::try_from(code).ok());
        return ExitCode::from(code.unwrap_or(1));
    }
    let runs = std::env::var("MEDFORGE_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("medforge new, default configuration: median of {runs} runs on {cores} cores");

    let template = TemplateSource::Embedded.open().expect("embedded template");
    let baseline = median(runs, |dir| plain_cargo_generate(template.dir(), dir));
    let library = median(runs, |dir| {
        let args = NewArgs {
            name: Some("clinic".into()),
            dir: Some(dir.join("clinic")),
            yes: true,
            ..NewArgs::default()
        };
        new_project(&args, None).expect("medforge new");
    });
    let binary = median(runs, |dir| {
        let status = Command::new(env!("CARGO_BIN_EXE_medforge"))
            .args(["new", "clinic", "--yes"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("medforge runs");
        assert!(status.success());
    });

    let report = |label: &str, took: Duration| {
        println!(
            "  {label:<44} {:>8.1} ms  {:>5.2}x baseline",
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() / baseline.as_secs_f64()
        );
    };
    report("plain cargo-generate render (baseline)", baseline);
    report("medforge new, library call", library);
    report("medforge new, whole process (what users run)", binary);
    let verdict = if binary < Duration::from_millis(100) {
        "met"
    } else {
        "MISSED"
    };
    println!("  target < 100 ms per project: {verdict}");
    ExitCode::SUCCESS
}

/// Runs `work` in a fresh directory `runs` times and returns the median wall time.
fn median(runs: usize, mut work: impl FnMut(&Path)) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let start = Instant::now();
            work(dir.path());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// What a team gets from `cargo generate --path templates/service` with the same answers.
fn plain_cargo_generate(template: &Path, dir: &Path) {
    medforge::render::cargo_generate(template, "clinic", &Answers::defaults(), dir)
        .expect("cargo-generate renders the template");
}
