//! The generated project must build and pass its own CI (fmt, clippy -D warnings, tests
//! against a real PostgreSQL cluster its harness starts) straight out of `medforge new`,
//! in the configurations that change the most code. Every generated project shares one
//! target directory, so the dependencies compile once.

use std::path::Path;
use std::process::Command;

use crate::support::project::git;
use crate::support::{generate, generated_build, generated_target_dir};

/// Where the generated project's first commit stands, and what its `.ci/run` may find.
#[derive(Clone, Copy)]
enum Setup {
    /// medforge is not on PATH: `.ci/run` prints how to install it and goes on.
    Bare,
    /// A git repository with everything committed, and this medforge on PATH, so
    /// `.ci/run` runs `medforge check`; the build must leave the tree as committed.
    Committed,
}

fn passes_its_own_ci(name: &str, set: &[&str], setup: Setup) {
    let _one_at_a_time = generated_build();
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), name, set);
    let mut ci = Command::new("bash");
    ci.arg(".ci/run")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        // The project's tests start their own cluster unless told to use another.
        .env_remove("DATABASE_URL");
    if let Setup::Committed = setup {
        git(&project, &["init", "-q"]);
        git(&project, &["add", "-A"]);
        git(&project, &["commit", "-q", "-m", "medforge new"]);
        ci.env("PATH", path_with_medforge());
    }
    let lock = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
    let status = ci.status().expect("bash runs the generated .ci/run");
    assert!(
        status.success(),
        "{name} {set:?}: the generated .ci/run failed"
    );
    // SPEC 6: the generated Cargo.lock is the one cargo writes, in every configuration
    // (`tls = proxy` resolves fewer packages than `rustls`).
    assert_eq!(
        std::fs::read_to_string(project.join("Cargo.lock")).unwrap(),
        lock,
        "{name} {set:?}: the first build rewrote Cargo.lock"
    );
    let tree = Command::new("cargo")
        .args(["tree", "--locked"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        .output()
        .expect("cargo tree runs");
    assert!(
        tree.status.success(),
        "{name}: Cargo.lock is not the one cargo writes: {}",
        String::from_utf8_lossy(&tree.stderr)
    );
    if let Setup::Committed = setup {
        let status = git(&project, &["status", "--porcelain"]);
        assert!(
            status.stdout.is_empty(),
            "{name}: building and testing changed the committed tree:\n{}",
            String::from_utf8_lossy(&status.stdout)
        );
    }
}

/// PATH with the medforge under test first.
pub(super) fn path_with_medforge() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_medforge"))
        .parent()
        .expect("the binary is in a directory")
        .to_owned();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest)))
        .expect("PATH entries join")
}

/// Named `clinic` on purpose: the service also has a `models::clinic` module, and the
/// generated code must still name its own crate unambiguously. Committed first: the build,
/// the tests and `medforge check` must leave the tree as `medforge new` wrote it.
#[test]
fn default_project_passes_its_own_ci() {
    passes_its_own_ci("clinic", &[], Setup::Committed);
}

/// The other side of every switch the code branches on: one clinic, two modules, TLS at a
/// proxy, the key-encryption key from the environment, the API without the web interface
/// (the default project runs the pages' tests, in a real browser under medforge's CI).
#[test]
fn single_clinic_project_passes_its_own_ci() {
    passes_its_own_ci(
        "practice",
        &[
            "tenancy=single",
            "modules=patients,notes",
            "tls=proxy",
            "key_provider=env",
            "ui=none",
        ],
        Setup::Bare,
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
