//! Renders the service template with cargo-generate (liquid underneath) and finishes the
//! tree: vendored guardrails, the computed PHI inventory, executable hooks.

use std::path::{Path, PathBuf};

use cargo_generate::{GenerateArgs, TemplatePath, Vcs};

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::fs::{self, write_file};
use crate::inventory;
use crate::lockfile;
use crate::template::{self, Template};

/// Where vendored guardrail crates live in a generated project.
pub const GUARDRAILS_DIR: &str = "guardrails";

/// Directories whose files must be executable in the generated project.
const EXECUTABLE_DIRS: &[&str] = &[".githooks", ".ci"];

/// Renders `template` for project `name` with `answers` into `parent/name`, finishes the
/// tree, and returns its path. `parent` must exist and should be empty scratch space.
pub fn project(
    template: &Template,
    name: &str,
    answers: &Answers,
    parent: &Path,
) -> Result<PathBuf> {
    let rendered = cargo_generate(template.dir(), name, answers, parent)?;
    // The lock cargo would write, so the first build leaves the git tree clean.
    lockfile::sort_file(&rendered.join("Cargo.lock"))?;
    vendor_guardrails(&rendered)?;
    append_clippy_bans(&rendered)?;
    inventory::fill_file(&rendered, &answers.policy().data_residency)?;
    mark_executables(&rendered)?;
    Ok(rendered)
}

/// Exactly what `cargo generate --path TEMPLATE --name NAME` does with these answers, and
/// nothing more.
pub fn cargo_generate(
    template_dir: &Path,
    name: &str,
    answers: &Answers,
    parent: &Path,
) -> Result<PathBuf> {
    let scratch = fs::scratch_dir("medforge-values-")?;
    let values_file = scratch.path().join("values.toml");
    let mut values = toml::Table::new();
    values.insert(
        "values".to_owned(),
        toml::Value::Table(answers.to_template_values()),
    );
    write_file(
        &values_file,
        toml::to_string(&values)
            .expect("a TOML table serializes")
            .as_bytes(),
    )?;
    // An empty configuration keeps a user's own cargo-generate favorites and default values
    // out of the render: the same answers always give the same project.
    let config_file = scratch.path().join("cargo-generate-config.toml");
    write_file(&config_file, b"")?;

    let args = GenerateArgs {
        template_path: TemplatePath {
            path: Some(template_dir.to_string_lossy().into_owned()),
            ..TemplatePath::default()
        },
        name: Some(name.to_owned()),
        // medforge validated the name already; cargo-generate must not rename it.
        force: true,
        silent: true,
        config: Some(config_file),
        vcs: Some(Vcs::None),
        template_values_file: Some(values_file.to_string_lossy().into_owned()),
        destination: Some(parent.to_owned()),
        no_workspace: true,
        no_fmt: true,
        ..GenerateArgs::default()
    };
    // cargo-generate narrates on stderr with temporary paths that mean nothing to the
    // user; medforge reports what was written itself. Errors still come back as values.
    let _quiet = gag::Gag::stderr().ok();
    cargo_generate::generate(args).map_err(Error::Render)
}

/// Copies the guardrail crates into the project, with their unit tests. The compile-fail
/// suite and its trybuild dependency stay behind: its expected compiler output is pinned
/// to medforge's toolchain, and medforge's CI runs it.
fn vendor_guardrails(project: &Path) -> Result<()> {
    for (relative, contents) in template::guardrail_files() {
        let target = project.join(GUARDRAILS_DIR).join(relative);
        fs::create_parent(&target)?;
        if relative.file_name().is_some_and(|n| n == "Cargo.toml") {
            write_file(&target, vendored_manifest(relative, contents)?.as_bytes())?;
        } else {
            write_file(&target, contents)?;
        }
    }
    Ok(())
}

fn vendored_manifest(relative: &Path, contents: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(contents).map_err(|e| {
        Error::Render(anyhow::anyhow!(
            "embedded guardrail manifest {} is not UTF-8: {e}",
            relative.display()
        ))
    })?;
    // A line edit keeps the manifest as its authors wrote it: trybuild belongs to the
    // compile-fail suite, which is not vendored.
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("trybuild "))
        .collect();
    Ok(format!(
        "# Vendored by medforge {}: the PHI guardrails (guardrails/README.md).\n\
         # Change them by updating medforge, never by hand: a weakened guardrail lets PHI leak.\n{}\n",
        env!("CARGO_PKG_VERSION"),
        kept.join("\n")
    ))
}

/// The guardrails' clippy bans (raw extractors, printing macros) join the project's
/// clippy.toml: CI runs clippy with `-D warnings`, so each banned use fails the build.
fn append_clippy_bans(project: &Path) -> Result<()> {
    let path = project.join("clippy.toml");
    let mut config = fs::read_optional_text(&path)?.unwrap_or_default();
    if !config.is_empty() && !config.ends_with('\n') {
        config.push('\n');
    }
    config.push('\n');
    config.push_str(template::guardrail_clippy_bans());
    write_file(&path, config.as_bytes())
}

/// The environment variable to set, and its value, so cargo-generate runs where no user
/// name is set (`env -i`, minimal CI images): it refuses to render without one, though
/// medforge's templates never use it. `None` when a name it reads is set already.
///
/// Setting it is the caller's part: changing the environment is sound only before any
/// other thread starts, which only `main` knows.
pub fn author_fallback() -> Option<(&'static str, &'static str)> {
    const NAMES: &[&str] = &[
        "CARGO_NAME",
        "GIT_AUTHOR_NAME",
        "GIT_COMMITTER_NAME",
        "USER",
        "USERNAME",
        "NAME",
    ];
    NAMES
        .iter()
        .all(|name| std::env::var_os(name).is_none())
        .then_some(("CARGO_NAME", "medforge"))
}

#[cfg(unix)]
fn mark_executables(project: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for dir in EXECUTABLE_DIRS {
        let Ok(entries) = std::fs::read_dir(project.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(Error::io("cannot make executable", &path))?;
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn mark_executables(_project: &Path) -> Result<()> {
    Ok(())
}
