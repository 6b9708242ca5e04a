//! The database schema as a project's `migrations/*.sql` build it, read statically: which
//! tables hold PHI, whether row-level security is enabled and forced on them, and which
//! statements hand out BYPASSRLS or ownership to the service role.
//!
//! `medforge check` holds this against SPEC 4.2.2, and the compliance docs list the PHI
//! columns from it. It is a reader for the statements migrations use, not a SQL parser:
//! comments, strings, quoted identifiers and dollar-quoted bodies are handled so that
//! they cannot fake or hide a statement, and everything else is keywords and names.
//!
//! A table holds PHI when a column is marked `COMMENT ON COLUMN t.c IS 'PHI: ...'` or it
//! has a `tenant_id` (or `clinic_id`) column: clinic data.

mod build;
mod lex;

use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::read_optional;

use build::Builder;
use lex::{lex, statements};

pub use build::is_service_role;

/// The folder sqlx reads migrations from.
pub const MIGRATIONS_DIR: &str = "migrations";

/// Columns that mark a table as holding a clinic's data: SPEC 4.2.2 says `tenant_id`,
/// and the generated schema calls the tenant a clinic.
pub const TENANT_COLUMNS: &[&str] = &["tenant_id", "clinic_id"];

/// Where the generated project keeps its role scripts (`db/bootstrap.sql`); they are read
/// for BYPASSRLS and ownership only.
pub const ROLE_SCRIPTS_DIR: &str = "db";

/// A place in a migration: the file relative to the project root, and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The declared type as written, lowercased, e.g. `bytea` or `varchar(64)`.
    pub sql_type: String,
}

/// A column marked `PHI: ...`.
#[derive(Debug, Clone)]
pub struct PhiColumn {
    pub column: String,
    /// The comment after `PHI:`.
    pub description: String,
    pub location: Location,
}

/// A switch set by `ALTER TABLE`: its last value and where it was set.
#[derive(Debug, Clone)]
pub struct Setting {
    pub on: bool,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The name, lowercased unless quoted, without a `public.` schema.
    pub name: String,
    /// Where the table was created, or first mentioned if not created in the migrations.
    pub location: Location,
    pub columns: Vec<Column>,
    pub phi: Vec<PhiColumn>,
    pub rls_enabled: Option<Setting>,
    pub rls_forced: Option<Setting>,
}

impl Table {
    /// Whether the table holds PHI, by the rule in the module docs.
    pub fn holds_phi(&self) -> bool {
        !self.phi.is_empty() || self.tenant_column().is_some()
    }

    /// The column that scopes rows to one clinic, if any.
    pub fn tenant_column(&self) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| TENANT_COLUMNS.contains(&c.name.as_str()))
    }

    pub fn rls_enforced(&self) -> bool {
        let on = |s: &Option<Setting>| s.as_ref().is_some_and(|s| s.on);
        on(&self.rls_enabled) && on(&self.rls_forced)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A statement that weakens the database's access control.
#[derive(Debug, Clone)]
pub struct Grant {
    pub location: Location,
    /// What the statement does, e.g. `CREATE ROLE app BYPASSRLS`.
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The migration files read, in the order they apply.
    pub files: Vec<String>,
    /// Tables that exist after the last migration, in the order they appeared.
    pub tables: Vec<Table>,
    /// Roles given BYPASSRLS or SUPERUSER: either one ignores row-level security.
    pub bypass: Vec<Grant>,
    /// Statements that make a `*_service` role own something (or create objects).
    pub service_ownership: Vec<Grant>,
}

impl Schema {
    /// Reads `migrations/*.sql` of the project at `project` (down migrations skipped). A
    /// project without the folder has an empty schema.
    pub fn read(project: &Path) -> Result<Schema> {
        let mut schema = Schema::from_sources(sql_files(project, MIGRATIONS_DIR)?);
        let mut roles = Builder::default();
        for (file, text) in sql_files(project, ROLE_SCRIPTS_DIR)? {
            for statement in statements(&lex(&text, 1)) {
                roles.weakened_access(&file, statement);
            }
        }
        schema.bypass.extend(roles.bypass);
        schema.service_ownership.extend(roles.service_ownership);
        Ok(schema)
    }

    /// Builds the schema from `(path, text)` migrations, sorting them as sqlx applies them
    /// (down migrations are left out).
    pub fn from_sources(mut sources: Vec<(String, String)>) -> Schema {
        sources.retain(|(path, _)| is_up_migration(path));
        sources.sort_by_key(|(a, _)| migration_order(a));
        let mut builder = Builder::default();
        for (file, text) in &sources {
            builder.file(file, text);
        }
        Schema {
            files: sources.into_iter().map(|(file, _)| file).collect(),
            tables: builder.finish(),
            bypass: builder.bypass,
            service_ownership: builder.service_ownership,
        }
    }

    pub fn phi_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| t.holds_phi())
    }
}

/// The `*.sql` files of `project/dir`, as paths relative to `project`; none if the folder
/// is absent.
pub fn sql_paths(project: &Path, dir: &str) -> Result<Vec<String>> {
    let path = project.join(dir);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot read", &path)(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("cannot read", &path))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sql") && entry.path().is_file() {
            paths.push(format!("{dir}/{name}"));
        }
    }
    paths.sort();
    Ok(paths)
}

/// The `*.sql` files of `project/dir` as `(relative path, text)`.
fn sql_files(project: &Path, dir: &str) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for path in sql_paths(project, dir)? {
        if let Some(text) = read_optional(&project.join(&path))? {
            files.push((path, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    Ok(files)
}

/// Whether a file name in `migrations/` is a migration sqlx applies going up.
pub fn is_up_migration(name: &str) -> bool {
    name.ends_with(".sql") && !name.ends_with(".down.sql")
}

/// sqlx applies migrations by their numeric version prefix.
fn migration_order(path: &str) -> (u128, String) {
    let name = path.rsplit('/').next().unwrap_or(path);
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u128::MAX), name.to_owned())
}
/// A version after every migration of the project and the render: the UTC time as
/// `YYYYMMDDHHMMSS`, like `sqlx migrate add`, so it cannot collide with the template's
/// small numbers (sqlx applies a lower-numbered migration it has not applied yet, too).
pub fn next_version(project: &Path, theirs: &Path) -> Result<u64> {
    let highest = sql_paths(project, MIGRATIONS_DIR)?
        .into_iter()
        .chain(sql_paths(theirs, MIGRATIONS_DIR)?)
        .filter_map(|path| {
            let name = path.rsplit('/').next()?.to_owned();
            name.split('_').next()?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    Ok(utc_stamp().max(highest + 1))
}

/// Now, in UTC, as the number `YYYYMMDDHHMMSS`.
fn utc_stamp() -> u64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    ((((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute) * 100 + second
}
