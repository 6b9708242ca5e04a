//! `medforge doctor`: what this machine lacks to build, test and run a generated project,
//! with the line that installs each missing piece.
//!
//! A generated project needs Rust at its `rust-version`, the PostgreSQL server programs
//! its tests and `cargo run -p dev` start throwaway clusters with, psql and the pinned
//! sqlx-cli for `medforge db`, and git for its hooks; jq is only used by the README's
//! walkthrough, so its absence is a warning. `medforge new` ends with the one-line verdict.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::record;
use crate::template;
use crate::tools::{self, POSTGRES_INSTALL, SQLX_CLI_VERSION, SQLX_INSTALL};

/// Everything `medforge doctor` needs.
#[derive(Debug, Clone, Default)]
pub struct DoctorArgs {
    /// A project whose `Cargo.toml` sets the Rust version; without it, the current
    /// directory when it is a generated project, else the template's.
    pub dir: Option<PathBuf>,
}

const RUSTUP_INSTALL: &str = "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh";

/// How one requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    /// Installed, at a version the project cannot use.
    Outdated,
}

/// One thing a generated project needs.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub name: &'static str,
    /// Whether its absence fails `doctor` (jq's only warns).
    pub required: bool,
    /// What the project uses it for.
    pub why: &'static str,
    pub status: Status,
    /// The version wanted, where one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// The version found, where it was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// What went wrong when the program was there but did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The command that installs (or upgrades) it, when it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
}

impl Item {
    fn new(name: &'static str, required: bool, why: &'static str) -> Item {
        Item {
            name,
            required,
            why,
            status: Status::Ok,
            needs: None,
            version: None,
            path: None,
            note: None,
            install: None,
        }
    }

    /// The item as the one-line verdict names it: `sqlx-cli 0.9.0`, `jq (optional)`.
    fn label(&self) -> String {
        let mut label = self.name.to_owned();
        if self.status == Status::Outdated
            && let Some(needs) = &self.needs
        {
            label = format!("{label} {needs}");
        }
        if !self.required {
            label.push_str(" (optional)");
        }
        label
    }
}

/// What `medforge doctor` found, for the human report, `--json` and `new`'s last line.
#[derive(Debug, Serialize)]
pub struct Diagnosis {
    /// The Rust version the project needs, and which file says so.
    pub rust_version: String,
    pub rust_version_from: String,
    pub items: Vec<Item>,
}

impl Diagnosis {
    /// Whether everything required is installed (optional items may be missing).
    pub fn ready(&self) -> bool {
        self.items
            .iter()
            .all(|item| !item.required || item.status == Status::Ok)
    }

    fn lacking(&self, required: bool) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|item| item.required == required && item.status != Status::Ok)
            .collect()
    }

    fn labels(items: &[&Item]) -> Vec<String> {
        items.iter().map(|item| item.label()).collect()
    }

    /// Labels of the required items that are missing or outdated.
    pub fn missing(&self) -> Vec<String> {
        Self::labels(&self.lacking(true))
    }

    /// Labels of the optional items that are missing.
    pub fn warnings(&self) -> Vec<String> {
        Self::labels(&self.lacking(false))
    }

    /// Whether anything at all, required or optional, is missing.
    pub fn complete(&self) -> bool {
        self.items.iter().all(|item| item.status == Status::Ok)
    }

    /// The last line of `medforge new`: what `doctor` would report.
    pub fn one_line(&self) -> String {
        if self.complete() {
            return "doctor: everything this project needs is installed".to_owned();
        }
        let lacking: Vec<String> = self.missing().into_iter().chain(self.warnings()).collect();
        format!(
            "doctor: missing {} — run `medforge doctor`",
            lacking.join(", ")
        )
    }

    /// The sentence of a failed `doctor`, for `--json`.
    pub fn error(&self) -> Option<String> {
        let missing = self.missing();
        (!missing.is_empty()).then(|| {
            format!(
                "this machine lacks {} for a generated project; run each item's install line, \
                 then `medforge doctor` again",
                missing.join(", ")
            )
        })
    }

    /// The human report: one line per item, the install line under each missing one, and
    /// a summary line.
    pub fn human(&self) -> String {
        let mut out = format!(
            "medforge doctor: what a generated project needs (Rust {} or newer, from {})\n",
            self.rust_version, self.rust_version_from
        );
        let width = self.items.iter().map(|i| i.name.len()).max().unwrap_or(0);
        for item in &self.items {
            let verdict = match (item.status, item.required) {
                (Status::Ok, _) => "ok     ",
                (Status::Outdated, _) => "OLD    ",
                (Status::Missing, true) => "MISSING",
                (Status::Missing, false) => "warn   ",
            };
            let found = match (&item.version, &item.path) {
                (Some(version), _) => version.clone(),
                (None, Some(path)) => path.display().to_string(),
                (None, None) => "not found".to_owned(),
            };
            let needs = match (&item.needs, item.status) {
                (Some(needs), Status::Outdated | Status::Missing) => format!(" (needs {needs})"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  {verdict}  {:<width$}  {found}{needs}\n",
                item.name
            ));
            if item.status == Status::Ok {
                continue;
            }
            out.push_str(&format!("           {:<width$}  for: {}\n", "", item.why));
            if let Some(note) = &item.note {
                out.push_str(&format!("           {:<width$}  {note}\n", ""));
            }
            if let Some(install) = &item.install {
                out.push_str(&format!("           {:<width$}  install: {install}\n", ""));
            }
        }
        let missing = self.missing();
        let warnings = self.warnings();
        out.push_str(&match (missing.is_empty(), warnings.is_empty()) {
            (true, true) => "Everything a generated project needs is installed.\n".to_owned(),
            (true, false) => format!(
                "Everything required is installed; missing {} (see above).\n",
                warnings.join(", ")
            ),
            (false, _) => format!(
                "Missing: {}. Install with the lines above, then run `medforge doctor` again.\n",
                missing.join(", ")
            ),
        });
        out
    }
}

/// Checks this machine against the project at `args.dir` (or the template).
pub fn diagnose(args: &DoctorArgs) -> Result<Diagnosis> {
    let project = match &args.dir {
        Some(dir) => {
            let dir = std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?;
            if !dir.is_dir() {
                return Err(Error::DoctorDirMissing(dir));
            }
            Some(dir)
        }
        // The current directory speaks for itself only when it is a generated project.
        None => record::project_dir(None).ok(),
    };
    diagnose_project(project.as_deref())
}

/// Checks this machine against `project`'s needs, or the template's when there is none.
pub fn diagnose_project(project: Option<&Path>) -> Result<Diagnosis> {
    let (rust_version, rust_version_from) = rust_requirement(project)?;
    let run_in = project
        .map(Path::to_owned)
        .or_else(|| std::env::current_dir().ok());
    let items = vec![
        rustc(&rust_version, run_in.as_deref()),
        postgres(
            "initdb",
            "creates the throwaway PostgreSQL clusters of the tests and `cargo run -p dev`",
        ),
        postgres("pg_ctl", "starts and stops those clusters"),
        postgres(
            "psql",
            "`medforge db setup` creates the roles and the database with it",
        ),
        sqlx_cli(),
        on_path(
            "git",
            true,
            "version control, and the pre-commit hook that keeps real identifiers out",
            "apt-get install git (Debian, Ubuntu) or brew install git (macOS)",
        ),
        on_path(
            "jq",
            false,
            "the README's walkthrough reads the dev server's synthetic accounts with it",
            "apt-get install jq (Debian, Ubuntu) or brew install jq (macOS)",
        ),
    ];
    Ok(Diagnosis {
        rust_version,
        rust_version_from,
        items,
    })
}

/// The `rust-version` of the project's `Cargo.toml`, or of the template's.
fn rust_requirement(project: Option<&Path>) -> Result<(String, String)> {
    if let Some(project) = project {
        let manifest = project.join("Cargo.toml");
        if let Some(bytes) = crate::fs::read_optional(&manifest)? {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(version) = rust_version_in(&text) {
                return Ok((version, manifest.display().to_string()));
            }
        }
    }
    let version = template::embedded_text("Cargo.toml")
        .and_then(rust_version_in)
        .ok_or_else(|| Error::Template {
            path: PathBuf::from("templates/service/Cargo.toml"),
            reason: "it sets no `rust-version`".to_owned(),
        })?;
    Ok((version, "the service template".to_owned()))
}

/// A manifest's `rust-version` (the workspace's, else the package's). The template's
/// manifest holds liquid tags and is not TOML, so a plain line is read there.
fn rust_version_in(manifest: &str) -> Option<String> {
    if let Ok(table) = manifest.parse::<toml::Table>() {
        let under = |section: &str| {
            section
                .split('.')
                .try_fold(&table, |table, key| table.get(key)?.as_table())?
                .get("rust-version")?
                .as_str()
                .map(str::to_owned)
        };
        return under("workspace.package").or_else(|| under("package"));
    }
    manifest.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "rust-version")
            .then(|| value.trim().strip_prefix('"')?.strip_suffix('"'))
            .flatten()
            .map(str::to_owned)
    })
}

/// `major.minor.patch` as numbers; a missing part is 0, a pre-release tag is ignored.
fn version_parts(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// The first word of a `--version` line that looks like a version: `rustc 1.95.0 (…)`
/// gives `1.95.0`, `sqlx-cli 0.9.0` gives `0.9.0`.
fn version_word(output: &str) -> Option<String> {
    output
        .split_whitespace()
        .find(|word| {
            word.starts_with(|c: char| c.is_ascii_digit()) && version_parts(word).is_some()
        })
        .map(str::to_owned)
}

/// Runs `program --version` (in `dir`, so a rustup override there applies): the version,
/// or what went wrong.
fn ask_version(program: &Path, dir: Option<&Path>) -> std::result::Result<String, String> {
    let mut command = Command::new(program);
    command.arg("--version");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command
        .output()
        .map_err(|e| format!("`{} --version` did not run: {e}", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr
            .lines()
            .next()
            .unwrap_or("no output")
            .trim()
            .to_owned();
        return Err(format!("`{} --version` failed: {said}", program.display()));
    }
    version_word(&stdout).ok_or_else(|| {
        format!(
            "`{} --version` printed no version: {}",
            program.display(),
            stdout.trim()
        )
    })
}

fn rustc(needs: &str, dir: Option<&Path>) -> Item {
    let mut item = Item::new(
        "rustc",
        true,
        "builds, lints and tests the project (with cargo)",
    );
    item.needs = Some(format!("{needs} or newer"));
    let upgrade = if tools::find_on_path("rustup").is_some() {
        "rustup update stable"
    } else {
        RUSTUP_INSTALL
    };
    let Some(path) = tools::find_on_path("rustc") else {
        item.status = Status::Missing;
        item.install = Some(RUSTUP_INSTALL.to_owned());
        return item;
    };
    item.path = Some(path.clone());
    match ask_version(&path, dir) {
        Ok(version) => {
            let new_enough = version_parts(&version)
                .zip(version_parts(needs))
                .is_some_and(|(have, want)| have >= want);
            if !new_enough {
                item.status = Status::Outdated;
                item.install = Some(upgrade.to_owned());
            }
            item.version = Some(version);
        }
        Err(note) => {
            item.status = Status::Missing;
            item.note = Some(note);
            item.install = Some(upgrade.to_owned());
        }
    }
    item
}

fn sqlx_cli() -> Item {
    let mut item = Item::new(
        "sqlx-cli",
        true,
        "`medforge db` runs the migrations and refreshes the .sqlx query data with it",
    );
    item.needs = Some(SQLX_CLI_VERSION.to_owned());
    let Some(path) = tools::find_on_path("sqlx") else {
        item.status = Status::Missing;
        item.install = Some(SQLX_INSTALL.to_owned());
        return item;
    };
    item.path = Some(path.clone());
    match ask_version(&path, None) {
        Ok(version) if version == SQLX_CLI_VERSION => item.version = Some(version),
        Ok(version) => {
            item.status = Status::Outdated;
            item.version = Some(version);
            item.install = Some(format!("{SQLX_INSTALL} --force"));
        }
        Err(note) => {
            item.status = Status::Missing;
            item.note = Some(note);
            item.install = Some(format!("{SQLX_INSTALL} --force"));
        }
    }
    item
}

fn postgres(name: &'static str, why: &'static str) -> Item {
    present(
        Item::new(name, true, why),
        tools::find_postgres_tool(name),
        POSTGRES_INSTALL,
    )
}

fn on_path(name: &'static str, required: bool, why: &'static str, install: &str) -> Item {
    present(
        Item::new(name, required, why),
        tools::find_on_path(name),
        install,
    )
}

/// An item whose presence is all that is checked.
fn present(mut item: Item, found: Option<PathBuf>, install: &str) -> Item {
    match found {
        Some(path) => item.path = Some(path),
        None => {
            item.status = Status::Missing;
            item.install = Some(install.to_owned());
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_version_comes_from_the_workspace_or_the_package() {
        let workspace = "[workspace]\nmembers = []\n[workspace.package]\nrust-version = \"1.94\"\n";
        assert_eq!(rust_version_in(workspace).as_deref(), Some("1.94"));
        let package = "[package]\nname = \"x\"\nrust-version = \"1.80.1\"\n";
        assert_eq!(rust_version_in(package).as_deref(), Some("1.80.1"));
        assert_eq!(rust_version_in("[package]\nname = \"x\"\n"), None);
        // The template's manifest is liquid, not TOML.
        let liquid = "[package]\nname = \"{{crate_name}}\"\n{% if x %}\nrust-version = \"1.90\"\n";
        assert_eq!(rust_version_in(liquid).as_deref(), Some("1.90"));
    }

    #[test]
    fn the_template_sets_a_rust_version() {
        let (version, from) = rust_requirement(None).unwrap();
        assert!(version_parts(&version).is_some(), "{version}");
        assert_eq!(from, "the service template");
    }

    #[test]
    fn versions_compare_by_number() {
        assert!(version_parts("1.95.0") >= version_parts("1.94"));
        assert!(version_parts("1.100.0") > version_parts("1.95.2"));
        assert!(version_parts("1.93.1") < version_parts("1.94"));
        assert_eq!(version_parts("1.96.0-nightly"), Some((1, 96, 0)));
        assert_eq!(
            version_word("rustc 1.95.0 (59807616e 2026-04-14)").as_deref(),
            Some("1.95.0")
        );
        assert_eq!(version_word("sqlx-cli 0.9.0").as_deref(), Some("0.9.0"));
        assert_eq!(version_word("no version here"), None);
    }

    #[test]
    fn the_one_line_verdict_names_what_is_missing() {
        let mut sqlx = Item::new("sqlx-cli", true, "db");
        sqlx.status = Status::Outdated;
        sqlx.needs = Some("0.9.0".to_owned());
        let mut jq = Item::new("jq", false, "walkthrough");
        jq.status = Status::Missing;
        let mut diagnosis = Diagnosis {
            rust_version: "1.94".to_owned(),
            rust_version_from: "the service template".to_owned(),
            items: vec![Item::new("git", true, "vcs"), sqlx, jq],
        };
        assert!(!diagnosis.ready());
        assert_eq!(
            diagnosis.one_line(),
            "doctor: missing sqlx-cli 0.9.0, jq (optional) — run `medforge doctor`"
        );
        diagnosis.items.remove(1);
        assert!(diagnosis.ready());
        assert!(diagnosis.error().is_none());
        diagnosis.items.pop();
        assert_eq!(
            diagnosis.one_line(),
            "doctor: everything this project needs is installed"
        );
    }
}
