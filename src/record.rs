//! `.medforge/`: what a project was generated from, and what was generated.
//!
//! - `answers.toml`: generator version, template version, project name and every answer,
//!   so `update` and `check` work from the same answers later.
//! - `base/`: the pristine rendered tree, every file exactly as medforge wrote it, at the
//!   same relative path (without `.medforge/` itself). It is the merge base of
//!   `medforge update` (base = what was generated, ours = the project now, theirs = the new
//!   render), and `check` compares the vendored guardrails with it when the project comes
//!   from another medforge version.
//!
//! Why a copy of the files rather than something smaller:
//! - Re-rendering "what was generated" later would need the exact old template and
//!   generator. The embedded template changes with every medforge release and a team's
//!   `--template` directory moves on, so an installed binary cannot recreate the old render.
//! - Hashes alone say *that* a file changed, not *how*: a three-way merge needs the
//!   base's content.
//! - Git objects or tags would only work in a git repository that kept the generation
//!   commit, and break with squashed or rewritten history.
//! - Plain files need no tool to read: a reviewer can `diff -r .medforge/base .` to see
//!   every local change, and they diff as text in code review. They cost a few hundred
//!   KiB of text.
//!
//! - `migrations.sha384`: the SHA-384 of every migration medforge has seen in
//!   `migrations/`, one `<hex>  <path>` line each (`sha384sum -c` reads it from the project
//!   root). A database may have applied any of them, and sqlx refuses to migrate once an
//!   applied migration changed or disappeared, so `medforge check` reports both. `new` and
//!   `update` add the files they find; an entry, once written, is never rewritten or
//!   dropped, so a later edit cannot hide behind the next update.
//!
//! Commit `.medforge/` with the project, so every clone can update. The base is written in
//! the staging directory together with the project, so it is moved into place in the same
//! step; `update` replaces it only after every project file is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

use crate::answers::{Answers, Origin, RECORD_ANSWERS};
use crate::error::{Error, Result};
use crate::fs::{self, list_files, read_optional, write_atomic};
use crate::schema::{MIGRATIONS_DIR, sql_paths};

pub const RECORD_DIR: &str = ".medforge";
pub const RECORD_FILE: &str = "answers.toml";
/// The pristine render, inside [`RECORD_DIR`].
pub const BASE_DIR: &str = "base";
/// The checksums of the recorded migrations, inside [`RECORD_DIR`].
pub const MIGRATION_SUMS_FILE: &str = "migrations.sha384";

const HEADER: &str = "\
# Written by medforge: the answers this project was generated with.
# `medforge update` and `medforge check` read it; change an answer with
# `medforge update --set KEY=VALUE` rather than by hand. .medforge/base/ holds the files
# as medforge generated them: the merge base of `medforge update`. Commit both.
";

/// A project's `.medforge/answers.toml`, as recorded.
#[derive(Debug, Clone)]
pub struct Record {
    pub path: PathBuf,
    pub generator_version: String,
    pub template_version: String,
    /// `builtin` or `team` (`--template PATH`); records from before it was kept are
    /// `builtin`.
    pub template_origin: String,
    pub project_name: String,
    /// The answers as written, not yet validated: `check` reports an out-of-range
    /// answer as a finding instead of refusing to run.
    pub raw_answers: toml::Table,
    /// The `[[resources]]` added with `medforge add resource`, as written
    /// (`crate::add::recorded` reads them).
    pub resources: Vec<toml::Table>,
}

impl Record {
    /// Reads the record of the project at `project`.
    pub fn read(project: &Path) -> Result<Record> {
        let path = record_path(project);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotAProject(project.to_owned()));
            }
            Err(e) => return Err(Error::io("cannot read", &path)(e)),
        };
        let malformed = |reason: String| Error::RecordMalformed {
            path: path.clone(),
            reason,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| malformed(format!("not valid TOML: {}", e.message())))?;
        let text_of = |key: &str| -> Result<String> {
            table
                .get("medforge")
                .and_then(|m| m.get(key))
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("`[medforge] {key}` is missing")))
        };
        let raw_answers = match table.get(RECORD_ANSWERS) {
            Some(toml::Value::Table(answers)) => answers.clone(),
            _ => return Err(malformed(format!("`[{RECORD_ANSWERS}]` is missing"))),
        };
        let resources = match table.get(RESOURCES) {
            None => Vec::new(),
            Some(toml::Value::Array(entries)) => entries
                .iter()
                .map(|entry| {
                    entry
                        .as_table()
                        .cloned()
                        .ok_or_else(|| malformed(format!("`[[{RESOURCES}]]` holds a non-table")))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(malformed(format!("`{RESOURCES}` is not `[[{RESOURCES}]]`"))),
        };
        let record = Record {
            resources,
            generator_version: text_of("generator_version")?,
            template_version: text_of("template_version")?,
            template_origin: text_of("template_origin")
                .unwrap_or_else(|_| crate::template::ORIGIN_BUILTIN.to_owned()),
            project_name: text_of("project_name")?,
            raw_answers,
            path: path.clone(),
        };
        // The name becomes a directory name when the template is rendered again.
        crate::name::validate(&record.project_name)
            .map_err(|e| malformed(format!("`project_name`: {e}")))?;
        Ok(record)
    }

    /// The recorded answers, validated like `--set`; options added to medforge since the
    /// project was generated take their secure defaults.
    pub fn answers(&self) -> Result<Answers> {
        let mut answers = Answers::from_table(&self.raw_answers, Origin::File(&self.path))?;
        answers.fill_defaults();
        Ok(answers)
    }
}

pub fn record_path(project: &Path) -> PathBuf {
    project.join(RECORD_DIR).join(RECORD_FILE)
}

pub fn base_dir(project: &Path) -> PathBuf {
    project.join(RECORD_DIR).join(BASE_DIR)
}

/// The project directory for `update` and `check`: `dir`, or the current directory. It
/// must hold a record.
pub fn project_dir(dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match dir {
        Some(dir) => std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?,
        None => std::env::current_dir().map_err(Error::io("cannot read", "."))?,
    };
    if record_path(&dir).is_file() {
        Ok(dir)
    } else {
        Err(Error::NotAProject(dir))
    }
}

/// Writes `.medforge/answers.toml` (through a temporary file, so it is never half written).
pub fn write(
    project: &Path,
    name: &str,
    template: &TemplateStamp,
    answers: &Answers,
    resources: &[toml::Table],
) -> Result<()> {
    let dir = project.join(RECORD_DIR);
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    write_atomic(
        &record_path(project),
        text(name, template, answers, resources).as_bytes(),
        None,
    )
}

/// Which template rendered a project: its version and origin (see
/// [`crate::template::TemplateSource::origin`]).
#[derive(Debug, Clone, Copy)]
pub struct TemplateStamp<'a> {
    pub version: &'a str,
    pub origin: &'a str,
}

/// The key of the resources added with `medforge add resource`.
pub const RESOURCES: &str = "resources";

/// The text of `.medforge/answers.toml`: the versions, the answers and the resources.
pub fn text(
    name: &str,
    template: &TemplateStamp,
    answers: &Answers,
    resources: &[toml::Table],
) -> String {
    let mut medforge = toml::Table::new();
    medforge.insert(
        "generator_version".to_owned(),
        env!("CARGO_PKG_VERSION").into(),
    );
    medforge.insert("template_version".to_owned(), template.version.into());
    medforge.insert("template_origin".to_owned(), template.origin.into());
    medforge.insert("project_name".to_owned(), name.into());
    let mut record = toml::Table::new();
    record.insert("medforge".to_owned(), toml::Value::Table(medforge));
    record.insert(
        RECORD_ANSWERS.to_owned(),
        toml::Value::Table(answers.to_toml()),
    );
    if !resources.is_empty() {
        let entries = resources.iter().cloned().map(toml::Value::Table).collect();
        record.insert(RESOURCES.to_owned(), toml::Value::Array(entries));
    }
    let body = toml::to_string(&record).expect("a TOML table serializes");
    format!("{HEADER}\n{body}")
}

/// Every file of a generated tree, relative and sorted, without `.medforge/`.
pub fn generated_files(root: &Path) -> Result<Vec<String>> {
    let mut files = list_files(root)?;
    files.retain(|file| !is_record_path(file));
    Ok(files)
}

/// Whether a relative path lies in `.medforge/`.
pub fn is_record_path(relative: &str) -> bool {
    relative
        .split('/')
        .next()
        .is_some_and(|first| first == RECORD_DIR)
}

/// Copies the rendered tree at `rendered` into `rendered/.medforge/base/`, keeping file
/// permissions (the hooks stay executable).
pub fn keep_base(rendered: &Path) -> Result<()> {
    copy_tree(rendered, &base_dir(rendered))
}

/// Copies every generated file of `from` (not `.medforge/`) to the same path under `to`.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for relative in generated_files(from)? {
        let target = to.join(&relative);
        fs::create_parent(&target)?;
        std::fs::copy(from.join(&relative), &target).map_err(Error::io("cannot write", &target))?;
    }
    Ok(())
}

pub fn migration_sums_path(project: &Path) -> PathBuf {
    project.join(RECORD_DIR).join(MIGRATION_SUMS_FILE)
}

/// The SHA-384 of `content`, in lowercase hex: for a migration, the same value sqlx keeps
/// in `_sqlx_migrations.checksum`.
pub fn sha384_hex(content: &[u8]) -> String {
    Sha384::digest(content)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The recorded migration checksums, by relative path; `None` when the project has no
/// list (generated before medforge kept one). Lines that are not `<hex>  <path>` are
/// skipped.
pub fn read_migration_sums(project: &Path) -> Result<Option<BTreeMap<String, String>>> {
    let Some(text) = read_optional(&migration_sums_path(project))? else {
        return Ok(None);
    };
    let sums = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| {
            let (sum, path) = line.split_once("  ")?;
            let valid = sum.len() == 96 && sum.bytes().all(|b| b.is_ascii_hexdigit());
            valid.then(|| (path.trim_end().to_owned(), sum.to_ascii_lowercase()))
        })
        .collect();
    Ok(Some(sums))
}

/// Adds every migration of `project/migrations/` that the list lacks to
/// `.medforge/migrations.sha384`. Recorded entries are kept as they are, even for a file
/// that changed or is gone: that is what `medforge check` reports.
pub fn record_migrations(project: &Path) -> Result<()> {
    let mut sums = read_migration_sums(project)?.unwrap_or_default();
    for path in sql_paths(project, MIGRATIONS_DIR)? {
        if sums.contains_key(&path) {
            continue;
        }
        if let Some(content) = read_optional(&project.join(&path))? {
            sums.insert(path, sha384_hex(&content));
        }
    }
    let text: String = sums
        .iter()
        .map(|(path, sum)| format!("{sum}  {path}\n"))
        .collect();
    let file = migration_sums_path(project);
    if read_optional(&file)?.as_deref() == Some(text.as_bytes()) {
        return Ok(());
    }
    let dir = project.join(RECORD_DIR);
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    write_atomic(&file, text.as_bytes(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_back_as_an_answers_file() {
        let dir = tempfile::tempdir().unwrap();
        let answers = Answers::defaults();
        let stamp = TemplateStamp {
            version: "0.1.0",
            origin: crate::template::ORIGIN_BUILTIN,
        };
        write(dir.path(), "demo", &stamp, &answers, &[]).unwrap();
        let path = record_path(dir.path());
        assert_eq!(Answers::from_file(&path).unwrap(), answers);
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("generator_version = \""), "{text}");
        assert!(text.contains("template_version = \"0.1.0\""), "{text}");

        let record = Record::read(dir.path()).unwrap();
        assert_eq!(record.project_name, "demo");
        assert_eq!(record.template_version, "0.1.0");
        assert_eq!(record.template_origin, "builtin");
        assert_eq!(record.answers().unwrap(), answers);
    }

    #[test]
    fn a_missing_or_damaged_record_says_so() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Record::read(dir.path()),
            Err(Error::NotAProject(_))
        ));
        std::fs::create_dir(dir.path().join(RECORD_DIR)).unwrap();
        for (text, expected) in [
            ("[medforge", "not valid TOML"),
            ("[answers]\n", "generator_version"),
            (
                "[medforge]\ngenerator_version = \"0.1.0\"\ntemplate_version = \"0.1.0\"\n\
                 project_name = \"../x\"\n[answers]\n",
                "project_name",
            ),
        ] {
            std::fs::write(record_path(dir.path()), text).unwrap();
            let err = Record::read(dir.path()).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn base_copies_the_tree_without_the_record() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        let stamp = TemplateStamp {
            version: "0.1.0",
            origin: crate::template::ORIGIN_BUILTIN,
        };
        write(dir.path(), "demo", &stamp, &Answers::defaults(), &[]).unwrap();
        keep_base(dir.path()).unwrap();
        assert_eq!(list_files(&base_dir(dir.path())).unwrap(), ["src/main.rs"]);
        assert_eq!(generated_files(dir.path()).unwrap(), ["src/main.rs"]);
    }

    #[test]
    fn recorded_migration_sums_are_added_to_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = dir.path().join(MIGRATIONS_DIR);
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(migrations.join("0001_a.sql"), "SELECT 1;\n").unwrap();
        record_migrations(dir.path()).unwrap();
        let first = read_migration_sums(dir.path()).unwrap().unwrap();
        assert_eq!(first["migrations/0001_a.sql"], sha384_hex(b"SELECT 1;\n"));

        std::fs::write(migrations.join("0001_a.sql"), "SELECT 2;\n").unwrap();
        std::fs::write(migrations.join("0002_b.sql"), "SELECT 3;\n").unwrap();
        record_migrations(dir.path()).unwrap();
        let second = read_migration_sums(dir.path()).unwrap().unwrap();
        assert_eq!(
            second["migrations/0001_a.sql"],
            first["migrations/0001_a.sql"]
        );
        assert_eq!(second["migrations/0002_b.sql"], sha384_hex(b"SELECT 3;\n"));
        let text = std::fs::read_to_string(migration_sums_path(dir.path())).unwrap();
        assert!(text.ends_with("  migrations/0002_b.sql\n"), "{text}");
    }
}
