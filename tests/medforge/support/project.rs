//! Working on a generated project the way its developers would: editing files, a team's
//! copy of the template, git, and reading medforge's JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::stdout;

/// medforge's own service template, as embedded in the binary.
pub fn embedded_template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/service")
}

/// A team's copy of the built-in template at `work/name`, with its version set to
/// `version` so updates from it are told apart.
pub fn team_template(work: &Path, name: &str, version: &str) -> PathBuf {
    let copy = work.join(name);
    copy_dir(&embedded_template(), &copy);
    write(
        &copy.join("medforge-template.toml"),
        &format!("version = \"{version}\"\n"),
    );
    copy
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Replaces the first `from` in the file with `to`; fails the test if `from` is absent.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    write(path, &text.replacen(from, to, 1));
}

/// Appends a line to the file.
pub fn append(path: &Path, line: &str) {
    let mut text = read(path);
    text.push_str(line);
    text.push('\n');
    write(path, &text);
}

/// stdout as the one JSON document it must be.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{}", stdout(output)))
}

/// Runs git in `dir` with a fixed identity and no user configuration.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every file under `dir` with its content, for "nothing changed" assertions.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    medforge::fs::list_files(dir)
        .unwrap()
        .into_iter()
        .map(|file| {
            let content = std::fs::read(dir.join(&file)).unwrap();
            (file, content)
        })
        .collect()
}
