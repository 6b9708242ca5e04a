//! `medforge new`: collect the answers, render the template into a staging directory, and
//! move the finished project into place in one step, so a failure leaves nothing behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::answers::{Answers, Value};
use crate::error::{Error, Result};
use crate::fs;
use crate::name;
use crate::options::OptionSpec;
use crate::record;
use crate::render;
use crate::template::TemplateSource;

/// Everything `medforge new` needs: the CLI fills it from flags, tests fill it directly.
#[derive(Debug, Clone, Default)]
pub struct NewArgs {
    pub name: Option<String>,
    /// The project directory; defaults to `./NAME`.
    pub dir: Option<PathBuf>,
    /// `--set KEY=VALUE` flags, applied after the answers file.
    pub set: Vec<String>,
    pub answers_file: Option<PathBuf>,
    /// Accept secure defaults for every option not given.
    pub yes: bool,
    pub dry_run: bool,
    /// Write into a non-empty directory.
    pub force: bool,
    pub template: TemplateSource,
}

/// Asks the user for what the flags did not say. The terminal implementation is
/// [`crate::prompt::Terminal`]; without a TTY there is no prompter at all.
pub trait Prompter {
    /// A name that passes `check`; a name that does not is asked for again.
    fn project_name(&mut self, check: NameCheck) -> Result<String>;
    fn option(&mut self, spec: &'static OptionSpec, default: Value) -> Result<Value>;
    /// Shows `summary` (what is about to be generated) and asks whether to go on.
    fn confirm(&mut self, summary: &str, dry_run: bool) -> Result<bool>;
}

/// What a project name typed at the prompt must pass: a valid name and, when the project
/// goes to `./NAME`, a directory that does not hold files already (unless `--force`), so
/// a taken name is asked for again rather than refused after every question.
#[derive(Debug, Clone)]
pub struct NameCheck {
    /// The directory `NAME` is created in, when no `--dir` was given.
    pub parent: Option<PathBuf>,
    pub force: bool,
}

impl NameCheck {
    pub fn check(&self, name: &str) -> Result<()> {
        name::validate(name)?;
        if let Some(parent) = &self.parent {
            let target = parent.join(name);
            match inspect_target(&target, self.force) {
                Err(Error::TargetNotEmpty(_) | Error::TargetNotDirectory(_)) => {
                    return Err(Error::NameTaken(target));
                }
                Err(other) => return Err(other),
                Ok(_) => {}
            }
        }
        Ok(())
    }
}

/// What `medforge new` did, for the human summary and for `--json`.
#[derive(Debug, Serialize)]
pub struct NewReport {
    pub name: String,
    pub path: PathBuf,
    pub dry_run: bool,
    /// Files written (or that would be written), relative to `path`, sorted; the copy of
    /// them kept in `.medforge/base/` is not listed.
    pub files: Vec<String>,
    pub answers: Answers,
    pub generator_version: &'static str,
    pub template_version: String,
    pub next_steps: Vec<String>,
}

pub fn new_project(args: &NewArgs, mut prompter: Option<&mut dyn Prompter>) -> Result<NewReport> {
    let mut answers = match &args.answers_file {
        Some(path) => Answers::from_file(path)?,
        None => Answers::default(),
    };
    answers.apply_flags(&args.set)?;

    let name = match (&args.name, prompter.as_deref_mut()) {
        (Some(name), _) => name.clone(),
        (None, Some(prompter)) => {
            let parent = match &args.dir {
                Some(_) => None,
                None => Some(absolute(PathBuf::from("."))?),
            };
            prompter.project_name(NameCheck {
                parent,
                force: args.force,
            })?
        }
        (None, None) => return Err(Error::MissingName),
    };
    name::validate(&name)?;

    let target = absolute(args.dir.clone().unwrap_or_else(|| PathBuf::from(&name)))?;
    let target_state = inspect_target(&target, args.force)?;

    // Secure defaults only when asked for: an agent must opt in to every answer it skipped.
    let missing = answers.missing();
    if args.yes {
        answers.fill_defaults();
    } else if let Some(prompter) = prompter {
        for spec in missing {
            let value = prompter.option(spec, Value::default_for(spec))?;
            answers.insert(spec, value);
        }
        // Nothing is written before the person at the terminal has seen it all.
        if !prompter.confirm(&summary(&name, &target, &answers), args.dry_run)? {
            return Err(Error::NotConfirmed);
        }
    } else if !missing.is_empty() {
        return Err(missing_answers(&missing));
    }

    let template = args.template.open()?;
    let staging_parent = if args.dry_run {
        std::env::temp_dir()
    } else {
        target
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(std::env::temp_dir)
    };
    // Staging beside the target keeps the final move a rename on one filesystem.
    let staging = fs::staging_dir(".medforge-new-", &staging_parent)?;
    let rendered = render::project(&template, &name, &answers, staging.path())?;
    let stamp = record::TemplateStamp {
        version: &template.version,
        origin: args.template.origin(),
    };
    record::write(&rendered, &name, &stamp, &answers, &[])?;
    // The merge base of `medforge update`, moved into place with the project.
    record::keep_base(&rendered)?;
    // Every migration a database may apply, so `check` sees one that changes later.
    record::record_migrations(&rendered)?;
    let base = format!("{}/{}/", record::RECORD_DIR, record::BASE_DIR);
    let mut files = fs::list_files(&rendered)?;
    files.retain(|file| !file.starts_with(&base));

    if !args.dry_run {
        place(&rendered, &target, target_state)?;
    }

    Ok(NewReport {
        next_steps: next_steps(&target),
        name,
        path: target,
        dry_run: args.dry_run,
        files,
        answers,
        generator_version: env!("CARGO_PKG_VERSION"),
        template_version: template.version,
    })
}

/// What is about to be generated, for the terminal's confirm step: the name, the
/// directory and every answer.
pub fn summary(name: &str, target: &Path, answers: &Answers) -> String {
    let mut out = format!("medforge will create `{name}` in {}:\n", target.display());
    let width = crate::options::OPTIONS
        .iter()
        .map(|spec| spec.key.len())
        .max()
        .unwrap_or(0);
    for spec in crate::options::OPTIONS {
        if let Some(value) = answers.get(spec.key) {
            out.push_str(&format!(
                "  {:<width$}  {}\n",
                spec.key,
                value.to_flag_text()
            ));
        }
    }
    out
}

fn missing_answers(missing: &[&'static OptionSpec]) -> Error {
    Error::MissingAnswers {
        missing: missing
            .iter()
            .map(|spec| spec.key)
            .collect::<Vec<_>>()
            .join(", "),
        flags: missing
            .iter()
            .map(|spec| format!("--set {}=…", spec.key))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&path).map_err(Error::io("cannot resolve", path))
}

/// What is at the target path now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetState {
    Absent,
    EmptyDir,
    /// Non-empty, and `--force` allows writing into it.
    Overlay,
}

fn inspect_target(target: &Path, force: bool) -> Result<TargetState> {
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = target.parent().unwrap_or(Path::new("/"));
            if parent.is_dir() {
                Ok(TargetState::Absent)
            } else {
                Err(Error::ParentMissing(parent.to_owned()))
            }
        }
        Err(e) => Err(Error::io("cannot inspect", target)(e)),
        Ok(meta) if !meta.is_dir() => Err(Error::TargetNotDirectory(target.to_owned())),
        Ok(_) => {
            let mut entries =
                std::fs::read_dir(target).map_err(Error::io("cannot read", target))?;
            match (entries.next().is_none(), force) {
                (true, _) => Ok(TargetState::EmptyDir),
                (false, true) => Ok(TargetState::Overlay),
                (false, false) => Err(Error::TargetNotEmpty(target.to_owned())),
            }
        }
    }
}

/// Moves the rendered project into place. A new or empty target gets one atomic rename;
/// with `--force` into a non-empty directory, each file is renamed over its old version.
fn place(rendered: &Path, target: &Path, state: TargetState) -> Result<()> {
    let unwritable = |source| Error::Unwritable {
        path: target.to_owned(),
        source,
    };
    match state {
        TargetState::Absent => std::fs::rename(rendered, target).map_err(unwritable),
        TargetState::EmptyDir => {
            std::fs::remove_dir(target).map_err(unwritable)?;
            std::fs::rename(rendered, target).map_err(unwritable)
        }
        TargetState::Overlay => {
            for relative in fs::list_files(rendered)? {
                let to = target.join(&relative);
                fs::create_parent(&to)?;
                std::fs::rename(rendered.join(&relative), &to)
                    .map_err(Error::io("cannot write", &to))?;
            }
            Ok(())
        }
    }
}

fn next_steps(target: &Path) -> Vec<String> {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| target.strip_prefix(cwd).ok().map(Path::to_owned))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| target.to_owned());
    vec![
        format!("cd {}", shown.display()),
        "git init && git config core.hooksPath .githooks".to_owned(),
        "cargo run -p dev   # the service on a throwaway PostgreSQL with synthetic data".to_owned(),
        "bash .ci/run       # fmt, clippy -D warnings, every test".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_states() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("new");
        assert_eq!(inspect_target(&absent, false).unwrap(), TargetState::Absent);
        std::fs::create_dir(&absent).unwrap();
        assert_eq!(
            inspect_target(&absent, false).unwrap(),
            TargetState::EmptyDir
        );
        std::fs::write(absent.join("keep.txt"), "mine").unwrap();
        assert!(matches!(
            inspect_target(&absent, false),
            Err(Error::TargetNotEmpty(_))
        ));
        assert_eq!(inspect_target(&absent, true).unwrap(), TargetState::Overlay);
        assert!(matches!(
            inspect_target(&absent.join("keep.txt"), true),
            Err(Error::TargetNotDirectory(_))
        ));
        assert!(matches!(
            inspect_target(&dir.path().join("no/such/dir"), false),
            Err(Error::ParentMissing(_))
        ));
    }
}
