//! `medforge db`: the generated project's database chores. Migrations and query data go
//! through sqlx-cli (invoked, never linked); the few steps that need a superuser (roles,
//! creating and dropping the database) go through psql. A missing tool or setting gets a
//! sentence that says what to install or set.
//!
//! Three roles are involved (SPEC §4.2.2): an administrator who creates the project's
//! roles and database, the owner role that runs the migrations, and the service role,
//! which owns nothing and is never used here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::record::{self, Record};
use crate::tools::{POSTGRES_INSTALL, find_postgres_tool, find_sqlx};

/// What `medforge db` can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DbTask {
    /// Create the roles and the database (as the administrator), then apply every migration.
    Setup,
    /// Apply the migrations not applied yet (as the owner role).
    Migrate,
    /// Refresh the committed `.sqlx` offline query data: on the migrated database of
    /// MIGRATION_DATABASE_URL, or without it on a throwaway cluster.
    Prepare,
    /// Drop the database, then set it up again from scratch.
    Reset,
}

/// A superuser (or CREATEROLE + CREATEDB) URL: only `setup` and `reset` use it.
pub const ADMIN_URL_VAR: &str = "ADMIN_DATABASE_URL";
/// The owner role's URL for the project's database: migrations run as the owner, never
/// as the service role, which cannot change the schema.
pub const MIGRATION_URL_VAR: &str = "MIGRATION_DATABASE_URL";

/// The script that creates the project's two roles, in the generated project.
const BOOTSTRAP_SCRIPT: &str = "db/bootstrap.sql";

/// Runs `task` in the project at `dir` (default: the current directory), streaming the
/// tools' own output.
pub fn run(task: DbTask, dir: Option<&Path>) -> Result<()> {
    let project = record::project_dir(dir)?;
    let record = Record::read(&project)?;
    if !project.join("migrations").is_dir() {
        return Err(Error::DbUnsupported(project));
    }
    // Without a database of one's own, the query data is refreshed on a throwaway cluster.
    if task == DbTask::Prepare && std::env::var_os(MIGRATION_URL_VAR).is_none_or(|v| v.is_empty()) {
        use std::io::IsTerminal;
        let mut steps = crate::steps::Steps::new(std::io::stderr().is_terminal());
        return crate::prepare::prepare_project(&project, &record.project_name, &mut steps);
    }
    let sqlx = find_sqlx()?;
    let migration_url = required_var(MIGRATION_URL_VAR, "the owner role's database URL")?;
    match task {
        DbTask::Migrate => migrate(&sqlx, &project, &migration_url),
        DbTask::Prepare => step(
            "prepare",
            Command::new("cargo")
                .args(["sqlx", "prepare", "--workspace", "--database-url"])
                .arg(&migration_url)
                .current_dir(&project),
        ),
        DbTask::Setup | DbTask::Reset => {
            let admin = Admin::connect(&project, &record)?;
            let database = database_name(&migration_url)?;
            if task == DbTask::Reset {
                admin.sql(
                    "drop the database",
                    &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
                )?;
            }
            admin.bootstrap_roles()?;
            admin.create_database(database)?;
            migrate(&sqlx, &project, &migration_url)
        }
    }
}

fn migrate(sqlx: &Path, project: &Path, migration_url: &str) -> Result<()> {
    step(
        "migrate",
        Command::new(sqlx)
            .args(["migrate", "run", "--database-url", migration_url])
            .current_dir(project),
    )
}

/// The administrator's connection, for the steps that need more than the owner role.
struct Admin<'a> {
    psql: PathBuf,
    url: String,
    project: &'a Path,
    owner_role: String,
}

impl<'a> Admin<'a> {
    fn connect(project: &'a Path, record: &Record) -> Result<Admin<'a>> {
        let psql = find_postgres_tool("psql").ok_or(Error::MissingTool {
            tool: "PostgreSQL's psql",
            install: POSTGRES_INSTALL.to_owned(),
        })?;
        Ok(Admin {
            psql,
            url: required_var(
                ADMIN_URL_VAR,
                "a superuser URL to create roles and databases",
            )?,
            project,
            owner_role: format!("{}_owner", record.project_name.replace('-', "_")),
        })
    }

    /// Creates (or re-asserts) the owner and service roles.
    fn bootstrap_roles(&self) -> Result<()> {
        if !self.project.join(BOOTSTRAP_SCRIPT).is_file() {
            return Ok(());
        }
        step(
            "create the roles",
            self.psql_command().args(["-f", BOOTSTRAP_SCRIPT]),
        )
    }

    /// Creates `database` owned by the owner role, unless it exists.
    fn create_database(&self, database: &str) -> Result<()> {
        let exists = self
            .psql_command()
            .args(["-tA", "-c"])
            .arg(format!(
                "SELECT 1 FROM pg_database WHERE datname = '{database}'"
            ))
            .output()
            .map_err(Error::io("cannot run psql in", self.project))?;
        if !exists.status.success() {
            return Err(Error::DbTaskFailed {
                task: "find the database".to_owned(),
                code: exists.status.code(),
            });
        }
        if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
            return Ok(());
        }
        self.sql(
            "create the database",
            &format!("CREATE DATABASE {database} OWNER {}", self.owner_role),
        )
    }

    fn sql(&self, what: &str, statement: &str) -> Result<()> {
        step(what, self.psql_command().args(["-c", statement]))
    }

    fn psql_command(&self) -> Command {
        let mut command = Command::new(&self.psql);
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(&self.url)
            .current_dir(self.project);
        command
    }
}

/// Runs one step; a failure names the step, and the tool's own output says why.
fn step(what: &str, command: &mut Command) -> Result<()> {
    let program = command.get_program().to_owned();
    let status = command.status().map_err(|source| Error::Io {
        action: "cannot run",
        path: PathBuf::from(program),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::DbTaskFailed {
            task: what.to_owned(),
            code: status.code(),
        })
    }
}

fn required_var(var: &'static str, what: &'static str) -> Result<String> {
    std::env::var(var)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or(Error::DatabaseUrlMissing { var, what })
}

/// The database a URL names (`postgres://user@host:port/NAME?options`). Only plain
/// lowercase names are accepted: the name is written into SQL statements.
fn database_name(url: &str) -> Result<&str> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let name = after_scheme
        .split_once('/')
        .map(|(_, path)| path.split(['?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(name)
    } else {
        Err(Error::InvalidDatabaseName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_come_from_the_url_path() {
        let name = |url| database_name(url).map_err(|e| e.to_string());
        assert_eq!(
            name("postgres://o@localhost:5432/clinic_dev"),
            Ok("clinic_dev")
        );
        assert_eq!(
            name("postgres://o:pw@h/clinic?sslmode=require"),
            Ok("clinic")
        );
        assert!(name("postgres://o@h:5432/").is_err());
        assert!(name("postgres://o@h/clinic;drop").is_err());
        assert!(name("postgres://o@h/Clinic").is_err());
    }

    #[test]
    fn a_directory_without_answers_is_not_a_project() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(DbTask::Migrate, Some(dir.path())).unwrap_err();
        assert!(matches!(err, Error::NotAProject(_)), "{err}");
    }
}
