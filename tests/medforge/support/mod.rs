//! Running the real `medforge` binary the way a script or an AI agent would: no TTY on
//! stdin, arguments only.

pub mod postgres;
pub mod project;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_medforge");

/// Runs medforge in `cwd` with stdin closed (not a terminal).
pub fn medforge(cwd: &Path, args: &[&str]) -> Output {
    medforge_bin(Path::new(BIN), cwd, args)
}

pub fn medforge_bin(bin: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("medforge runs")
}

/// Generates project `name` in `work` with `--yes` and the given `--set` values, and
/// returns its directory; fails the test with medforge's message if generation fails.
pub fn generate(work: &Path, name: &str, set: &[&str]) -> PathBuf {
    let mut args = vec!["new", name, "--yes"];
    for value in set {
        args.extend(["--set", value]);
    }
    let output = medforge(work, &args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    work.join(name)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("medforge exits normally")
}

/// One shared target directory for every generated project the tests build, so each
/// dependency compiles once per machine rather than once per project.
pub fn generated_target_dir() -> PathBuf {
    std::env::var_os("MEDFORGE_GENERATED_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-target"))
}

/// Held while a generated project builds and tests in [`generated_target_dir`]: one at a
/// time. Two builds at once race in the shared directory (a doctest of one project was
/// seen linking a `phi_guard_macros` the other had just replaced: cargo names a path
/// dependency's artifacts by its path inside the workspace, the same in every project).
pub fn generated_build() -> std::sync::MutexGuard<'static, ()> {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    BUILD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Names of the entries in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
