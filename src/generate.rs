//! `medforge new`: collect the answers, render the template into a staging directory, and
//! move the finished project into place in one step, so a failure leaves nothing behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::answers::{Answers, Value};
use crate::error::{Error, Result};
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
        validate_name(name)?;
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
    validate_name(&name)?;

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
    let staging = tempfile::Builder::new()
        .prefix(".medforge-new-")
        .tempdir_in(&staging_parent)
        .map_err(|source| Error::Unwritable {
            path: staging_parent.clone(),
            source,
        })?;
    let rendered = render::render(&template, &name, &answers, staging.path())?;
    let stamp = record::TemplateStamp {
        version: &template.version,
        origin: args.template.origin(),
    };
    record::write(&rendered, &name, &stamp, &answers)?;
    // The merge base of `medforge update`, moved into place with the project.
    record::keep_base(&rendered)?;
    // Every migration a database may apply, so `check` sees one that changes later.
    record::record_migrations(&rendered)?;
    let base = format!("{}/{}/", record::RECORD_DIR, record::BASE_DIR);
    let mut files = list_files(&rendered)?;
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

/// Project names become crate names and directory names: keep them to what cargo accepts
/// everywhere and what reads well in a path.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > 64 {
        return invalid("use at most 64 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid("start with a lowercase letter (a-z)");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return invalid(&format!(
            "`{bad}` is not allowed; use lowercase letters, digits, `-` and `_`"
        ));
    }
    if name.ends_with(['-', '_']) {
        return invalid("end with a letter or digit");
    }
    // Cargo treats `-` and `_` alike in crate names, so `phi-guard` and `phi_guard` clash.
    let crate_name = name.replace('-', "_");
    let is = |list: &[&str]| {
        list.iter()
            .any(|reserved| reserved.replace('-', "_") == crate_name)
    };
    if is(WORKSPACE_CRATES) {
        return invalid(
            "the generated workspace has a crate of that name already (guardrails/, tools/, \
             bench/); pick another, e.g. `clinic-portal`",
        );
    }
    if is(STD_CRATES) {
        return invalid(
            "it is a crate of Rust's standard library, which the project could no longer \
             use; pick another, e.g. `clinic-portal`",
        );
    }
    if is(KEYWORDS) {
        return invalid("it is a Rust keyword, which cannot name a crate; pick another");
    }
    Ok(())
}

/// The other crates of the generated workspace: a project of the same name would collide
/// with one of them (a test keeps this list in step with the template).
const WORKSPACE_CRATES: &[&str] = &[
    "dev",
    "bench",
    "phi-guard",
    "phi-guard-macros",
    "pg-throwaway",
    "phi-scan",
];

/// The crates rustc ships; a crate of the same name shadows them.
const STD_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];

/// Rust keywords, reserved ones included: cargo refuses them as package names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

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
            for relative in list_files(rendered)? {
                let to = target.join(&relative);
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir).map_err(Error::io("cannot create", dir))?;
                }
                std::fs::rename(rendered.join(&relative), &to)
                    .map_err(Error::io("cannot write", &to))?;
            }
            Ok(())
        }
    }
}

/// Every file under `root`, relative and sorted, with `/` separators.
pub fn list_files(root: &Path) -> Result<Vec<String>> {
    list_files_except(root, &|_| false)
}

/// Every file under `root` like [`list_files`], without descending into the directories
/// `skip` says so of (it is given each directory's path relative to `root`).
pub fn list_files_except(root: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<Vec<String>> {
    fn walk(
        root: &Path,
        dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
        out: &mut Vec<String>,
    ) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(Error::io("cannot read", dir))? {
            let entry = entry.map_err(Error::io("cannot read", dir))?;
            let path = entry.path();
            if entry
                .file_type()
                .map_err(Error::io("cannot inspect", &path))?
                .is_dir()
            {
                let relative = path.strip_prefix(root).expect("walked below root");
                if !skip(relative) {
                    walk(root, &path, skip, out)?;
                }
            } else {
                let relative = path.strip_prefix(root).expect("walked below root");
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, root, skip, &mut files)?;
    files.sort();
    Ok(files)
}

/// The file's content, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(content) => Ok(Some(content)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path)(e)),
    }
}

/// Replaces `path` with `contents` through a temporary file beside it and a rename, so a
/// reader (or a crash) sees the old file or the new one, never half of one.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".medforge-write-")
        .tempfile_in(dir)
        .map_err(Error::io("cannot write in", dir))?;
    file.write_all(contents)
        .map_err(Error::io("cannot write", file.path().to_owned()))?;
    // A temporary file starts private (0600): give it the old file's mode, or a plain
    // file's.
    let permissions = permissions
        .or_else(|| std::fs::metadata(path).ok().map(|m| m.permissions()))
        .or_else(default_permissions);
    if let Some(permissions) = permissions {
        std::fs::set_permissions(file.path(), permissions)
            .map_err(Error::io("cannot set permissions of", path))?;
    }
    file.persist(path)
        .map_err(|e| Error::io("cannot write", path)(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
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
    fn good_names_pass() {
        for name in ["demo", "clinic-portal", "clinic_portal2", "a"] {
            validate_name(name).unwrap();
        }
    }

    #[test]
    fn bad_names_say_why() {
        let cases = [
            ("", "empty"),
            ("Demo", "lowercase letter"),
            ("1clinic", "lowercase letter"),
            ("clinic portal", "` ` is not allowed"),
            ("clinic/portal", "`/` is not allowed"),
            ("../etc", "lowercase letter"),
            ("clinic-", "end with a letter"),
            ("self", "keyword"),
            ("std", "standard library"),
            ("proc-macro", "standard library"),
            ("dev", "generated workspace"),
            ("phi_guard", "generated workspace"),
        ];
        for (name, expected) in cases {
            let err = validate_name(name).unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
        assert!(validate_name(&"a".repeat(65)).is_err());
    }

    /// Every member of the generated workspace (the template's, and the vendored
    /// guardrails) is a reserved name, so a project can never collide with one.
    #[test]
    fn every_crate_of_the_generated_workspace_is_reserved() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = std::fs::read_to_string(root.join("templates/service/Cargo.toml")).unwrap();
        let members: Vec<&str> = manifest
            .lines()
            .skip_while(|line| !line.starts_with("members"))
            .skip(1)
            .take_while(|line| !line.starts_with(']'))
            .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix("\","))
            .filter(|member| *member != ".")
            .collect();
        assert!(members.len() >= 6, "{members:?}");
        for member in members {
            let in_template = root
                .join("templates/service")
                .join(member)
                .join("Cargo.toml");
            let path = if in_template.is_file() {
                in_template
            } else {
                root.join(member).join("Cargo.toml")
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let name = text
                .lines()
                .find_map(|line| line.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{} has no name", path.display()));
            assert!(
                WORKSPACE_CRATES.contains(&name),
                "{name} ({member}) is not reserved"
            );
        }
    }

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
