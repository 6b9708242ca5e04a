//! Where the service template comes from: the copy embedded in the binary (so an installed
//! `medforge` needs no checkout and no network), or a team's own cargo-generate template
//! directory.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::fs;

static EMBEDDED_TEMPLATE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/service");
static EMBEDDED_GUARDRAILS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/guardrails");

/// The template's own metadata file; cargo-generate leaves it out of the output.
pub const METADATA_FILE: &str = "medforge-template.toml";

/// The cargo-generate configuration every template directory must have.
const CARGO_GENERATE_CONFIG: &str = "cargo-generate.toml";

pub const ORIGIN_BUILTIN: &str = "builtin";
pub const ORIGIN_TEAM: &str = "team";

#[derive(Debug, Clone, Default)]
pub enum TemplateSource {
    #[default]
    Embedded,
    Directory(PathBuf),
}

/// A template on disk, ready for cargo-generate, with its version.
#[derive(Debug)]
pub struct Template {
    dir: PathBuf,
    pub version: String,
    /// Keeps an extracted embedded template alive while it is rendered.
    _extracted: Option<TempDir>,
}

impl Template {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl TemplateSource {
    /// How `.medforge/answers.toml` names where a project's template came from: the
    /// built-in one, or a team's own (whose path differs from one checkout to the next).
    pub fn origin(&self) -> &'static str {
        match self {
            TemplateSource::Embedded => ORIGIN_BUILTIN,
            TemplateSource::Directory(_) => ORIGIN_TEAM,
        }
    }

    /// Puts the template on disk (the embedded one is extracted into a temporary
    /// directory) and reads its version.
    pub fn open(&self) -> Result<Template> {
        let (dir, extracted) = match self {
            TemplateSource::Embedded => {
                let scratch = fs::scratch_dir("medforge-template-")?;
                EMBEDDED_TEMPLATE
                    .extract(scratch.path())
                    .map_err(Error::io(
                        "cannot extract the template into",
                        scratch.path(),
                    ))?;
                (scratch.path().to_owned(), Some(scratch))
            }
            TemplateSource::Directory(dir) => (dir.clone(), None),
        };
        let template_error = |reason: String| Error::Template {
            path: dir.clone(),
            reason,
        };
        if !dir.join(CARGO_GENERATE_CONFIG).is_file() {
            return Err(template_error(format!(
                "it has no {CARGO_GENERATE_CONFIG}; point --template at a cargo-generate \
                 template directory such as a copy of medforge's templates/service"
            )));
        }
        let metadata = dir.join(METADATA_FILE);
        let text = std::fs::read_to_string(&metadata)
            .map_err(|e| template_error(format!("cannot read {METADATA_FILE}: {e}")))?;
        let version = metadata_version(&text).ok_or_else(|| {
            template_error(format!(
                "{METADATA_FILE} must contain a line like `version = \"1.0.0\"`"
            ))
        })?;
        Ok(Template {
            dir,
            version,
            _extracted: extracted,
        })
    }
}

/// The `version` of a template's [`METADATA_FILE`].
fn metadata_version(text: &str) -> Option<String> {
    let table = text.parse::<toml::Table>().ok()?;
    table.get("version")?.as_str().map(str::to_owned)
}

/// The version of the template embedded in this binary, without extracting it.
pub fn embedded_version() -> Option<String> {
    metadata_version(embedded_text(METADATA_FILE)?)
}

/// A text file of the embedded template, as written (liquid tags included).
pub fn embedded_text(relative: &str) -> Option<&'static str> {
    EMBEDDED_TEMPLATE.get_file(relative)?.contents_utf8()
}

/// The clippy bans every generated project adopts (`guardrails/clippy-bans.toml`).
pub fn guardrail_clippy_bans() -> &'static str {
    EMBEDDED_GUARDRAILS
        .get_file("clippy-bans.toml")
        .and_then(|file| file.contents_utf8())
        .expect("guardrails/clippy-bans.toml is embedded")
}

/// Files of the guardrail crates that a generated project vendors: sources, manifests and
/// the README, not the compile-fail suite (that runs in medforge's own CI).
pub fn guardrail_files() -> Vec<(&'static Path, &'static [u8])> {
    let mut files = Vec::new();
    collect_files(&EMBEDDED_GUARDRAILS, &mut files);
    files.retain(|(path, _)| is_vendored_guardrail_file(path));
    files.sort_by_key(|(path, _)| *path);
    files
}

fn is_vendored_guardrail_file(path: &Path) -> bool {
    let mut components = path.components().map(|c| c.as_os_str().to_string_lossy());
    match (components.next(), components.next()) {
        (Some(file), None) => file == "README.md",
        (Some(_crate), Some(part)) => matches!(&*part, "Cargo.toml" | "src"),
        _ => false,
    }
}

fn collect_files(dir: &'static Dir<'static>, out: &mut Vec<(&'static Path, &'static [u8])>) {
    for file in dir.files() {
        out.push((file.path(), file.contents()));
    }
    for sub in dir.dirs() {
        collect_files(sub, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_template_opens_with_a_version() {
        let template = TemplateSource::Embedded.open().unwrap();
        assert!(!template.version.is_empty());
        assert_eq!(embedded_version(), Some(template.version.clone()));
        assert!(template.dir().join(CARGO_GENERATE_CONFIG).is_file());
    }

    #[test]
    fn a_directory_without_cargo_generate_config_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = TemplateSource::Directory(dir.path().to_owned())
            .open()
            .unwrap_err();
        assert!(
            err.to_string().contains("has no cargo-generate.toml"),
            "{err}"
        );
    }

    #[test]
    fn guardrails_are_vendored_without_their_test_suite() {
        let files = guardrail_files();
        assert!(
            files
                .iter()
                .any(|(p, _)| p.ends_with("phi-guard/src/lib.rs"))
        );
        assert!(files.iter().all(|(p, _)| !p.starts_with("phi-guard/tests")));
    }
}
