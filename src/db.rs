//! `medforge db`: the generated project's database chores, run through sqlx-cli (invoked,
//! never linked) in the project directory, with a clear sentence when a tool is missing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::record::{RECORD_DIR, RECORD_FILE};

/// What `medforge db` can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DbTask {
    /// Create the database if needed and apply every migration.
    Setup,
    /// Apply the migrations not applied yet.
    Migrate,
    /// Refresh the `.sqlx` offline query data (needs a migrated database).
    Prepare,
    /// Drop the database, create it again and apply every migration.
    Reset,
}

/// The environment variable that names the database migrations run against: the owner
/// role's URL, never the service role's, which owns nothing and cannot change the schema.
pub const MIGRATION_URL_VAR: &str = "MIGRATION_DATABASE_URL";
/// The environment variable sqlx-cli and the service read by default.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// How to get sqlx-cli, said whenever it is missing.
pub const SQLX_INSTALL: &str =
    "cargo install --locked sqlx-cli --no-default-features --features postgres,rustls";

/// The sqlx-cli command line for a task: program and arguments.
fn command_line(task: DbTask, database_url: &OsString) -> (&'static str, Vec<OsString>) {
    let url = || [OsString::from("--database-url"), database_url.clone()];
    match task {
        DbTask::Setup => ("sqlx", chain(["database", "setup"], url())),
        DbTask::Migrate => ("sqlx", chain(["migrate", "run"], url())),
        DbTask::Reset => ("sqlx", chain(["database", "reset", "-y"], url())),
        DbTask::Prepare => ("cargo", chain(["sqlx", "prepare", "--workspace"], url())),
    }
}

fn chain<const N: usize>(words: [&str; N], url: [OsString; 2]) -> Vec<OsString> {
    words.into_iter().map(OsString::from).chain(url).collect()
}

/// Runs `task` in the project at `dir` (default: the current directory), streaming
/// sqlx-cli's own output.
pub fn run(task: DbTask, dir: Option<&Path>) -> Result<()> {
    let project = project_root(dir)?;
    if !project.join("migrations").is_dir() {
        return Err(Error::DbUnsupported(project));
    }
    ensure_sqlx_cli()?;
    let database_url = database_url(&project)?;
    let (program, args) = command_line(task, &database_url);
    let status = Command::new(program)
        .args(&args)
        .current_dir(&project)
        .status()
        .map_err(Error::io("cannot run sqlx-cli in", &project))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::DbTaskFailed {
            task: format!("{task:?}").to_lowercase(),
            code: status.code(),
        })
    }
}

/// The project directory, which must hold `.medforge/answers.toml`.
fn project_root(dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => std::env::current_dir().map_err(Error::io("cannot read", "."))?,
    };
    if dir.join(RECORD_DIR).join(RECORD_FILE).is_file() {
        Ok(dir)
    } else {
        Err(Error::NotAProject(dir))
    }
}

fn ensure_sqlx_cli() -> Result<()> {
    let found = Command::new("sqlx")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        Ok(())
    } else {
        Err(Error::MissingTool {
            tool: "sqlx-cli",
            install: SQLX_INSTALL.to_owned(),
        })
    }
}

/// The owner's URL for migrations, else `DATABASE_URL`. When neither is set, say whether
/// PostgreSQL itself is missing or just not configured.
fn database_url(project: &Path) -> Result<OsString> {
    if let Some(url) = [MIGRATION_URL_VAR, DATABASE_URL_VAR]
        .iter()
        .find_map(|var| std::env::var_os(var).filter(|url| !url.is_empty()))
    {
        return Ok(url);
    }
    if postgres_installed() {
        Err(Error::DatabaseUrlMissing(project.to_owned()))
    } else {
        Err(Error::MissingTool {
            tool: "PostgreSQL",
            install: "apt-get install postgresql (Debian, Ubuntu) or brew install postgresql \
                      (macOS), then set MIGRATION_DATABASE_URL"
                .to_owned(),
        })
    }
}

/// Whether PostgreSQL's server or client programs are on this machine: on PATH, or in
/// Debian's versioned directories, which are not on PATH.
pub fn postgres_installed() -> bool {
    let on_path = ["pg_ctl", "psql", "pg_config"].iter().any(|tool| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    });
    on_path
        || std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
            versions
                .flatten()
                .any(|version| version.path().join("bin/pg_ctl").is_file())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_passes_the_database_url_explicitly() {
        let url = OsString::from("postgres://owner@localhost/clinic");
        for task in [
            DbTask::Setup,
            DbTask::Migrate,
            DbTask::Prepare,
            DbTask::Reset,
        ] {
            let (_, args) = command_line(task, &url);
            let at = args.iter().position(|a| a == "--database-url").unwrap();
            assert_eq!(args[at + 1], url, "{task:?}");
        }
        assert_eq!(command_line(DbTask::Prepare, &url).0, "cargo");
        assert!(
            command_line(DbTask::Reset, &url)
                .1
                .contains(&OsString::from("-y")),
            "reset must not wait for a confirmation nobody can type"
        );
    }

    #[test]
    fn a_directory_without_answers_is_not_a_project() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(DbTask::Migrate, Some(dir.path())).unwrap_err();
        assert!(matches!(err, Error::NotAProject(_)), "{err}");
    }
}
