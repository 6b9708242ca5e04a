//! The generated project must build and pass its own CI (fmt, clippy -D warnings, tests
//! against a real PostgreSQL cluster its harness starts) straight out of `medforge new`,
//! in the configurations that change the most code. Every generated project shares one
//! target directory, so the dependencies compile once.

mod support;

use std::process::Command;

use support::{generate, generated_target_dir};

fn passes_its_own_ci(name: &str, set: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), name, set);
    let status = Command::new("bash")
        .arg(".ci/run")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        // The project's tests start their own cluster unless told to use another.
        .env_remove("DATABASE_URL")
        .status()
        .expect("bash runs the generated .ci/run");
    assert!(
        status.success(),
        "{name} {set:?}: the generated .ci/run failed"
    );
}

/// Named `clinic` on purpose: the service also has a `models::clinic` module, and the
/// generated code must still name its own crate unambiguously.
#[test]
fn default_project_passes_its_own_ci() {
    passes_its_own_ci("clinic", &[]);
}

/// The other side of every switch the code branches on: one clinic, two modules, TLS at a
/// proxy, the key-encryption key from the environment.
#[test]
fn single_clinic_project_passes_its_own_ci() {
    passes_its_own_ci(
        "practice",
        &[
            "tenancy=single",
            "modules=patients,notes",
            "tls=proxy",
            "key_provider=env",
        ],
    );
}

/// rustfmt lays lines out by their length, and the project's name is in the generated
/// code: whatever the name's length (2 to 64 characters, the bounds `new` accepts), the
/// generated project must pass its own `cargo fmt --check`, in both configurations.
#[test]
fn generated_code_is_rustfmt_clean_whatever_the_length_of_the_name() {
    let longest = format!("c{}", "x".repeat(63));
    let configurations: [&[&str]; 2] = [
        &[],
        &[
            "tenancy=single",
            "modules=patients,notes",
            "tls=proxy",
            "key_provider=env",
        ],
    ];
    for name in ["ab", longest.as_str()] {
        for set in configurations {
            let work = tempfile::tempdir().unwrap();
            let project = generate(work.path(), name, set);
            let output = Command::new("cargo")
                .args(["fmt", "--check"])
                .current_dir(&project)
                .output()
                .expect("cargo fmt runs");
            assert!(
                output.status.success(),
                "a {}-character name {set:?}: {}",
                name.len(),
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}
