//! Renders the service template with cargo-generate (liquid underneath) and finishes the
//! tree: vendored guardrails, executable hooks.

use std::path::{Path, PathBuf};

use cargo_generate::{GenerateArgs, TemplatePath, Vcs};

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::template::{self, Template};

/// Where vendored guardrail crates live in a generated project.
pub const GUARDRAILS_DIR: &str = "guardrails";

/// Directories whose files must be executable in the generated project.
const EXECUTABLE_DIRS: &[&str] = &[".githooks", ".ci"];

/// Renders `template` for project `name` with `answers` into `parent/name` and returns that
/// path. `parent` must exist and should be empty scratch space.
pub fn render(
    template: &Template,
    name: &str,
    answers: &Answers,
    parent: &Path,
) -> Result<PathBuf> {
    let scratch = tempfile::Builder::new()
        .prefix("medforge-values-")
        .tempdir()
        .map_err(Error::io(
            "cannot create a temporary directory in",
            std::env::temp_dir(),
        ))?;
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
            path: Some(template.dir().to_string_lossy().into_owned()),
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
    let rendered = {
        // cargo-generate narrates on stderr with temporary paths that mean nothing to the
        // user; medforge reports what was written itself. Errors still come back as values.
        let _quiet = gag::Gag::stderr().ok();
        cargo_generate::generate(args)
    }
    .map_err(Error::Render)?;

    vendor_guardrails(&rendered)?;
    mark_executables(&rendered)?;
    Ok(rendered)
}

/// Copies the guardrail crates into the project. Their dev-dependencies (the compile-fail
/// suite's) stay behind: the project tests its own code, medforge tests the guardrails.
fn vendor_guardrails(project: &Path) -> Result<()> {
    for (relative, contents) in template::guardrail_files() {
        let target = project.join(GUARDRAILS_DIR).join(relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("cannot create", dir))?;
        }
        if relative.file_name().is_some_and(|n| n == "Cargo.toml") {
            write_file(&target, vendored_manifest(relative, contents)?.as_bytes())?;
        } else {
            write_file(&target, contents)?;
        }
    }
    Ok(())
}

fn vendored_manifest(relative: &Path, contents: &[u8]) -> Result<String> {
    let broken = |reason: String| {
        Error::Render(anyhow::anyhow!(
            "embedded guardrail manifest {} {reason}",
            relative.display()
        ))
    };
    let text = std::str::from_utf8(contents).map_err(|e| broken(e.to_string()))?;
    let mut manifest: toml::Table = text.parse().map_err(|e| broken(format!("{e}")))?;
    manifest.remove("dev-dependencies");
    let body = toml::to_string(&manifest).map_err(|e| broken(e.to_string()))?;
    Ok(format!(
        "# Vendored by medforge {}: the PHI guardrails. Do not weaken them;\n\
         # `medforge check` verifies they are intact.\n{body}",
        env!("CARGO_PKG_VERSION")
    ))
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

fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    std::fs::write(path, contents).map_err(Error::io("cannot write", path))
}
