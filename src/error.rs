//! Every way medforge can fail, each with a sentence a user can act on and the exit code
//! that SPEC §3 promises to scripts and AI agents.

use std::path::PathBuf;

/// Exit codes are part of the CLI contract: agents branch on them, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    /// Something went wrong while doing the work (I/O, rendering, a tool failed).
    Failure = 1,
    /// The request itself was wrong: bad name, unknown key, value out of range, …
    Usage = 2,
    /// `medforge update` finished, and some files hold conflict markers to resolve.
    Conflicts = 3,
    /// `medforge check` found controls that are missing or weakened.
    Violations = 4,
    /// Ctrl-C or Esc at a prompt, reported the way shells report an interrupt.
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid project name `{name}`: {reason}")]
    InvalidName { name: String, reason: String },

    #[error("unknown option `{key}`{origin}; known options: {known}")]
    UnknownOption {
        key: String,
        origin: String,
        known: String,
    },

    #[error("invalid value for `{key}`{origin}: {reason}")]
    InvalidValue {
        key: String,
        origin: String,
        reason: String,
    },

    #[error("`--set {0}` must look like KEY=VALUE, e.g. `--set tenancy=single`")]
    MalformedSet(String),

    #[error("cannot read answers file {path}: {source}")]
    AnswersUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("answers file {path} is not valid TOML: {message}")]
    AnswersMalformed { path: PathBuf, message: String },

    #[error(
        "no project name given and stdin is not a terminal, so medforge cannot ask: \
         pass it as `medforge new NAME`"
    )]
    MissingName,

    #[error(
        "stdin is not a terminal, so medforge cannot ask for {missing}; pass --yes to accept \
         the secure defaults, or give them with {flags}"
    )]
    MissingAnswers { missing: String, flags: String },

    #[error(
        "target directory {0} is not empty; choose another --dir, or pass --force to write \
         the project into it (existing files with the same names are replaced)"
    )]
    TargetNotEmpty(PathBuf),

    #[error("target {0} exists and is not a directory; choose another --dir")]
    TargetNotDirectory(PathBuf),

    #[error("parent directory {0} does not exist; create it first or choose another --dir")]
    ParentMissing(PathBuf),

    #[error("cannot write to {path}: {source}; choose a directory you can write to with --dir")]
    Unwritable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "directory {0} exists and holds files; type another name, or run again with --dir \
         or --force"
    )]
    NameTaken(PathBuf),

    #[error("cancelled at the prompt; nothing was written")]
    Cancelled,

    #[error("not confirmed, so nothing was written; run `medforge new` again to change an answer")]
    NotConfirmed,

    #[error("cannot show the prompt: {0}")]
    Prompt(String),

    #[error("rendering the service template failed: {0:#}")]
    Render(anyhow::Error),

    #[error("template at {path} is not usable: {reason}")]
    Template { path: PathBuf, reason: String },

    #[error(
        "{0} is not a medforge project (no .medforge/answers.toml); run this in a generated \
         project or pass --dir"
    )]
    NotAProject(PathBuf),

    #[error("{0} has no migrations/ folder, so there is no database to manage")]
    DbUnsupported(PathBuf),

    #[error(
        "directory {0} does not exist; point --dir at a generated project, or leave it out to \
         check what the template needs"
    )]
    DoctorDirMissing(PathBuf),

    #[error("{tool} is not installed; install it with: {install}")]
    MissingTool { tool: &'static str, install: String },

    #[error("{var} is not set: it must hold {what} (see the project's README, \"Database\")")]
    DatabaseUrlMissing {
        var: &'static str,
        what: &'static str,
    },

    #[error(
        "database name `{0}` in MIGRATION_DATABASE_URL is not a plain name; use lowercase \
         letters, digits and `_`"
    )]
    InvalidDatabaseName(String),

    #[error("could not {task} (exit code {code:?}); the tool's output above says why")]
    DbTaskFailed { task: String, code: Option<i32> },

    #[error("{path} is damaged: {reason}; restore it from version control")]
    RecordMalformed { path: PathBuf, reason: String },

    #[error(
        "{0} has no .medforge/base/ (the files medforge generated), so there is nothing to \
         merge against; regenerate the project with this medforge and copy your changes over"
    )]
    BaseMissing(PathBuf),

    #[error(
        "{0} has uncommitted changes (git status is not clean); commit or stash them so the \
         update can be reviewed and undone, or pass --allow-dirty"
    )]
    DirtyTree(PathBuf),

    #[error(
        "the project was last updated by medforge {project}, newer than this medforge \
         {this}; install medforge {project} or later to update it"
    )]
    GeneratorTooOld { project: String, this: String },

    #[error(
        "{0} was generated from a team template; pass --template with the path of that \
         template (medforge does not keep it), so its changes are not replaced by the \
         built-in one"
    )]
    TeamTemplateRequired(PathBuf),

    /// A resource `medforge add resource` cannot add as given; the message says why.
    #[error("{message}")]
    InvalidResource {
        /// The flag at fault (`--field`, `--values`, `--roles`, `name`).
        option: &'static str,
        message: String,
        allowed: Option<Vec<String>>,
    },

    #[error("stdin is not a terminal, so medforge cannot ask for {missing}; give {flags}")]
    MissingResourceFlags { missing: String, flags: String },

    #[error(
        "{file} has no `medforge:{region}` lines, where `medforge add resource` writes; \
         restore them from .medforge/base/{file} (or run `medforge update`)"
    )]
    RegionMissing { file: String, region: String },

    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::InvalidName { .. }
            | Error::UnknownOption { .. }
            | Error::InvalidValue { .. }
            | Error::MalformedSet(_)
            | Error::AnswersUnreadable { .. }
            | Error::AnswersMalformed { .. }
            | Error::MissingName
            | Error::MissingAnswers { .. }
            | Error::TargetNotEmpty(_)
            | Error::NameTaken(_)
            | Error::TargetNotDirectory(_)
            | Error::ParentMissing(_)
            | Error::Unwritable { .. }
            | Error::Template { .. }
            | Error::NotAProject(_)
            | Error::DbUnsupported(_)
            | Error::DoctorDirMissing(_)
            | Error::MissingTool { .. }
            | Error::DatabaseUrlMissing { .. }
            | Error::InvalidDatabaseName(_)
            | Error::TeamTemplateRequired(_)
            | Error::RecordMalformed { .. }
            | Error::BaseMissing(_)
            | Error::DirtyTree(_)
            | Error::GeneratorTooOld { .. }
            | Error::InvalidResource { .. }
            | Error::MissingResourceFlags { .. }
            | Error::RegionMissing { .. } => ExitStatus::Usage,
            Error::Cancelled => ExitStatus::Interrupted,
            Error::NotConfirmed
            | Error::Prompt(_)
            | Error::Render(_)
            | Error::DbTaskFailed { .. }
            | Error::Io { .. } => ExitStatus::Failure,
        }
    }

    /// The option at fault, for `--json` (SPEC §3).
    pub fn option(&self) -> Option<&str> {
        match self {
            Error::UnknownOption { key, .. } | Error::InvalidValue { key, .. } => Some(key),
            Error::InvalidResource { option, .. } => Some(option),
            _ => None,
        }
    }

    /// The values the option at fault accepts (the known keys for an unknown one), for
    /// `--json`; none for numbers and free text, whose sentence gives the rule.
    pub fn allowed(&self) -> Option<Vec<String>> {
        let owned = |items: &[&str]| items.iter().map(|&item| item.to_owned()).collect();
        match self {
            Error::UnknownOption { .. } => Some(
                crate::options::OPTIONS
                    .iter()
                    .map(|option| option.key.to_owned())
                    .collect(),
            ),
            Error::InvalidValue { key, .. } => match crate::options::find(key)?.kind {
                crate::options::Kind::Choice { choices }
                | crate::options::Kind::MultiChoice { choices, .. } => Some(owned(choices)),
                _ => None,
            },
            Error::InvalidResource { allowed, .. } => allowed.clone(),
            _ => None,
        }
    }

    /// Wraps an I/O error with what medforge was doing and where.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
