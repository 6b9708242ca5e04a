//! The vendored guardrails hold in a real generated project: code that logs a patient's
//! name, or puts a patient in a URL, does not build, and the error names PHI.

use std::path::Path;
use std::process::Command;

use crate::support::{generate, generated_build, generated_target_dir, stderr};

/// Adds `source` as a module of the generated service and runs `cargo build`.
fn build_with(project: &Path, module: &str, source: &str) -> std::process::Output {
    let _one_at_a_time = generated_build();
    std::fs::write(project.join("src").join(format!("{module}.rs")), source).unwrap();
    let lib = project.join("src/lib.rs");
    let mut lib_source = std::fs::read_to_string(&lib).unwrap();
    lib_source.push_str(&format!("\npub mod {module};\n"));
    std::fs::write(&lib, lib_source).unwrap();
    Command::new("cargo")
        .args(["build", "--quiet", "--color", "never"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        .output()
        .expect("cargo runs")
}

#[test]
fn phi_in_a_log_line_or_a_url_does_not_build() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);

    let logged = build_with(
        &project,
        "log_patient",
        r#"
use phi_guard::Phi;

pub fn admit(name: Phi<String>) {
    tracing::info!("admitted {}", name);
}
"#,
    );
    assert!(!logged.status.success(), "logging a patient name built");
    let message = stderr(&logged);
    assert!(message.contains("PHI must not be formatted"), "{message}");
    assert!(message.contains("log_patient.rs"), "{message}");

    // Remove the first leak so the second one is judged on its own.
    std::fs::remove_file(project.join("src/log_patient.rs")).unwrap();
    let lib = project.join("src/lib.rs");
    let lib_source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, lib_source.replace("\npub mod log_patient;\n", "")).unwrap();

    let in_url = build_with(
        &project,
        "patient_url",
        r#"
use phi_guard::{Phi, SafeUrl};

pub fn link(name: &Phi<String>) -> String {
    SafeUrl::new("/patients").segment(name).to_string()
}
"#,
    );
    assert!(!in_url.status.success(), "a patient name in a URL built");
    let message = stderr(&in_url);
    assert!(
        message.contains("PHI must not be placed in a URL"),
        "{message}"
    );
    assert!(message.contains("patient_url.rs"), "{message}");
}
