//! The generated project must build and pass its own CI (fmt, clippy -D warnings, tests)
//! straight out of `medforge new`. Every generated project shares one target directory,
//! so the dependencies compile once.

mod support;

use std::process::Command;

use support::{generate, generated_target_dir};

#[test]
fn default_project_passes_its_own_ci() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);

    let status = Command::new("bash")
        .arg(".ci/run")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        .status()
        .expect("bash runs the generated .ci/run");
    assert!(status.success(), "the generated project's .ci/run failed");
}
