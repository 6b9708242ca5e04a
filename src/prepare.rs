//! Refreshing a generated project's `.sqlx` query data without a database of one's own:
//! a throwaway PostgreSQL cluster (the project's own `tools/pg-throwaway`: initdb into a
//! temporary directory, a free loopback port, a random password, the `postgres` user when
//! run as root, removed however medforge ends), the project's roles from
//! `db/bootstrap.sql`, every migration applied as the owner role, then `cargo sqlx prepare
//! --workspace`. `medforge add resource` runs it on a copy of the project with the new
//! resource, so the project is written only once its queries check; `medforge db prepare`
//! runs it in place when no `MIGRATION_DATABASE_URL` is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};
use crate::fs::{self, read_optional};
use crate::steps::Steps;
use crate::tools::{POSTGRES_INSTALL, SQLX_INSTALL, find_on_path, find_postgres_tool};

/// The folder `cargo sqlx prepare` writes.
pub const QUERY_DATA_DIR: &str = ".sqlx";

/// What refreshing needs from this machine.
pub struct Tools {
    sqlx: PathBuf,
    psql: PathBuf,
}

/// The tools, or the first one missing with how to install it.
pub fn tools() -> Result<Tools> {
    let later = "; or pass --skip-prepare and run `medforge db prepare` once it is there";
    let sqlx = find_on_path("sqlx").ok_or_else(|| Error::MissingTool {
        tool: "sqlx-cli",
        install: format!("{SQLX_INSTALL}{later}"),
    })?;
    if find_on_path("cargo-sqlx").is_none() {
        return Err(Error::MissingTool {
            tool: "sqlx-cli's cargo-sqlx",
            install: format!("{SQLX_INSTALL}{later}"),
        });
    }
    let postgres = || Error::MissingTool {
        tool: "the PostgreSQL server (initdb, pg_ctl, psql)",
        install: format!("{POSTGRES_INSTALL}{later}"),
    };
    pg_throwaway::find_bindir().ok_or_else(postgres)?;
    let psql = find_postgres_tool("psql").ok_or_else(postgres)?;
    Ok(Tools { sqlx, psql })
}

/// The `.sqlx` files that change when the project at `project`, with `changes` (path and
/// new content) applied, is prepared: new or changed content, or `None` for a file to
/// remove. The project itself is not touched: a copy of it is migrated and prepared.
pub fn refreshed_query_data(
    project: &Path,
    project_name: &str,
    changes: &[(String, Vec<u8>)],
    steps: &mut Steps,
) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    let tools = tools()?;
    let scratch = fs::scratch_dir("medforge-prepare-")?;
    let copy = scratch.path().join("project");
    steps.run("copy", "Copying the project with the new resource", || {
        copy_project(project, &copy)?;
        for (path, content) in changes {
            let target = copy.join(path);
            fs::create_parent(&target)?;
            fs::write_file(&target, content)?;
        }
        Ok(())
    })?;
    // Built where the project builds, so its dependencies compile once.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project.join("target"));
    prepare_in(&tools, &copy, project_name, &target_dir, steps)?;

    let before = query_files(project)?;
    let after = query_files(&copy)?;
    let mut out = Vec::new();
    for (path, content) in &after {
        if before.get(path) != Some(content) {
            out.push((path.clone(), Some(content.clone())));
        }
    }
    for path in before.keys().filter(|path| !after.contains_key(*path)) {
        out.push((path.clone(), None));
    }
    Ok(out)
}

/// Refreshes `.sqlx` of the project at `project` in place, on a throwaway cluster.
pub fn prepare_project(project: &Path, project_name: &str, steps: &mut Steps) -> Result<()> {
    let tools = tools()?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project.join("target"));
    prepare_in(&tools, project, project_name, &target_dir, steps)
}

fn prepare_in(
    tools: &Tools,
    project: &Path,
    project_name: &str,
    target_dir: &Path,
    steps: &mut Steps,
) -> Result<()> {
    let cluster = steps.run("cluster", "Starting a throwaway PostgreSQL", || {
        pg_throwaway::Cluster::start().map_err(|e| Error::DbTaskFailed {
            task: format!("start a throwaway PostgreSQL cluster ({e})"),
            code: None,
        })
    })?;
    let crate_name = project_name.replace('-', "_");
    let owner = format!("{crate_name}_owner");
    let database = format!("{crate_name}_prepare");
    let password = pg_throwaway::random_hex(24).map_err(|e| Error::DbTaskFailed {
        task: format!("make a password ({e})"),
        code: None,
    })?;
    let owner_url = cluster.url(&owner, &password, &database);
    steps.run("migrate", "Applying every migration to it", || {
        let admin = cluster.superuser_url("postgres");
        let psql = |what: &str, args: &[&str]| {
            run(
                what,
                Command::new(&tools.psql)
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(&admin)
                    .args(args)
                    .current_dir(project),
            )
        };
        psql("create the project's roles", &["-f", "db/bootstrap.sql"])?;
        // A random password only this run knows; the cluster listens on loopback.
        psql(
            "give the owner role a password",
            &["-c", &format!("ALTER ROLE {owner} PASSWORD '{password}'")],
        )?;
        psql(
            "create the database",
            &["-c", &format!("CREATE DATABASE {database} OWNER {owner}")],
        )?;
        run(
            "apply the migrations",
            Command::new(&tools.sqlx)
                .args(["migrate", "run", "--database-url"])
                .arg(&owner_url)
                .current_dir(project),
        )
    })?;
    steps.run(
        "prepare",
        "Checking every query and refreshing .sqlx (cargo sqlx prepare)",
        || {
            run(
                "refresh .sqlx (cargo sqlx prepare --workspace)",
                Command::new("cargo")
                    .args(["sqlx", "prepare", "--workspace", "--database-url"])
                    .arg(&owner_url)
                    .env("CARGO_TARGET_DIR", target_dir)
                    .current_dir(project),
            )
        },
    )?;
    drop(cluster);
    Ok(())
}

/// Runs a tool with its output captured; a failure names the step, and the tool's last
/// lines go to stderr, where they say why.
fn run(what: &str, command: &mut Command) -> Result<Output> {
    let program = command.get_program().to_owned();
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Io {
            action: "cannot run",
            path: PathBuf::from(program),
            source,
        })?;
    if output.status.success() {
        return Ok(output);
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    eprintln!("{}", tail.join("\n"));
    Err(Error::DbTaskFailed {
        task: what.to_owned(),
        code: output.status.code(),
    })
}

/// Copies the project's sources (not its build output, git data or medforge's record).
fn copy_project(from: &Path, to: &Path) -> Result<()> {
    let skip = |dir: &Path| {
        matches!(
            dir.to_str(),
            Some("target" | ".git" | crate::record::RECORD_DIR)
        )
    };
    for relative in fs::list_files_except(from, &skip)? {
        let target = to.join(&relative);
        fs::create_parent(&target)?;
        std::fs::copy(from.join(&relative), &target).map_err(Error::io("cannot copy", &target))?;
    }
    Ok(())
}

/// The `.sqlx/*.json` files of `root`, by relative path.
fn query_files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for path in fs::list_files_under(root, QUERY_DATA_DIR)? {
        if let Some(content) = read_optional(&root.join(&path))? {
            files.insert(path, content);
        }
    }
    Ok(files)
}
