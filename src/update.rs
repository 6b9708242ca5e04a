//! `medforge update`: re-render the template with the recorded answers (changed by
//! `--set`) and merge it into the project three ways, file by file:
//! base = `.medforge/base/` (what was generated), ours = the project now, theirs = the
//! new render.
//!
//! | base | ours | theirs | result |
//! |---|---|---|---|
//! | - | - | new | added |
//! | - | x | x | nothing to do |
//! | - | x | y | merged against an empty base: a conflict unless equal |
//! | b | b | t | updated to the template's version |
//! | b | o | b | your version stays |
//! | b | o | t | merged; conflict markers where both changed the same lines |
//! | b | b | - | removed (the template dropped it) |
//! | b | o | - | kept and reported (the template dropped it, you changed it) |
//! | b | - | b | stays deleted |
//! | b | - | t | restored and reported (you deleted it, the template changed it) |
//!
//! Migrations are immutable (SPEC 6): a database may have applied any file in
//! `migrations/`, and sqlx refuses to migrate once an applied migration changed or is
//! gone. So a migration the project has is never updated, merged or removed: the
//! template's change is withheld and reported. Tables the template no longer creates (a
//! module removed) keep their rows and lose the service role's privileges through a new
//! migration after the highest one; a module's migration that comes back (the module added
//! again) runs again as a new migration, since the database applied it once already.
//! `.medforge/migrations.sha384` records every migration, for `medforge check`.
//!
//! Binary files are never merged: changed on both sides is a conflict, your version
//! stays, and the template's is in `.medforge/base/`. Every result is computed before
//! anything is written; each file is then replaced through a temporary file and a rename,
//! so no file is ever half written. The base and the record are replaced last, so an
//! interrupted update can simply be run again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::fs::{self, read_optional, write_atomic};
use crate::inventory::{self, INVENTORY_FILE};
use crate::merge::{self, Merged};
use crate::record::{self, RECORD_DIR, RECORD_FILE, Record};
use crate::render;
use crate::schema::{MIGRATIONS_DIR, Schema, is_up_migration, next_version, sql_paths};
use crate::template::TemplateSource;

/// Everything `medforge update` needs: the CLI fills it from flags, tests fill it directly.
#[derive(Debug, Clone, Default)]
pub struct UpdateArgs {
    /// The project; defaults to the current directory.
    pub dir: Option<PathBuf>,
    /// `--set KEY=VALUE` changes to the recorded answers.
    pub set: Vec<String>,
    pub template: TemplateSource,
    pub dry_run: bool,
    /// Update a git project with uncommitted changes.
    pub allow_dirty: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A new template file.
    Added,
    /// The template changed a file you had not changed.
    Updated,
    /// You and the template changed different parts; both kept.
    Merged,
    /// You and the template changed the same lines: conflict markers to resolve (or, for
    /// a binary file, your version kept).
    Conflict,
    /// The template dropped a file you had not changed.
    Removed,
    /// The template dropped a file you changed: kept.
    Kept,
    /// You deleted a file the template changed: restored with the template's version.
    Restored,
    /// A migration the template changed or dropped: left as it is, since a database may
    /// have applied it.
    Withheld,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Updated => "updated",
            Action::Merged => "merged",
            Action::Conflict => "CONFLICT",
            Action::Removed => "removed",
            Action::Kept => "kept",
            Action::Restored => "restored",
            Action::Withheld => "withheld",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Relative to the project, `/`-separated.
    pub path: String,
    pub action: Action,
    /// What to do about it, where there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// With `--dry-run`: the unified diff of the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    pub generator_version: String,
    pub template_version: String,
}

/// What `medforge update` did (or would do), for the human summary and for `--json`.
#[derive(Debug, Serialize)]
pub struct UpdateReport {
    pub path: PathBuf,
    pub dry_run: bool,
    pub from: Versions,
    pub to: Versions,
    /// The answers after `--set`.
    pub answers: Answers,
    /// Files that changed or need attention, sorted by path; untouched files are not
    /// listed.
    pub files: Vec<FileChange>,
    /// Paths left with conflicts to resolve.
    pub conflicts: Vec<String>,
    /// Migrations whose template change or removal was not written (they may be applied).
    pub migrations_withheld: Vec<String>,
}

impl UpdateReport {
    pub fn has_conflicts(&self) -> bool {
        !self.conflicts.is_empty()
    }
}

/// The new content of a project file.
#[derive(Debug)]
enum Outcome {
    Write {
        content: Vec<u8>,
        permissions: Option<std::fs::Permissions>,
    },
    Remove,
    /// Reported, nothing written.
    Keep,
}

#[derive(Debug)]
struct Planned {
    path: String,
    action: Action,
    note: Option<String>,
    outcome: Outcome,
}

pub fn update(args: &UpdateArgs) -> Result<UpdateReport> {
    let project = record::project_dir(args.dir.as_deref())?;
    let record = Record::read(&project)?;
    // An older medforge would take the project back to its older template and guardrails.
    if newer(&record.generator_version, env!("CARGO_PKG_VERSION")) {
        return Err(Error::GeneratorTooOld {
            project: record.generator_version,
            this: env!("CARGO_PKG_VERSION").to_owned(),
        });
    }
    // Updating a team's project from the built-in template would replace the team's
    // changes wholesale: make the choice explicit.
    if record.template_origin == crate::template::ORIGIN_TEAM
        && matches!(args.template, TemplateSource::Embedded)
    {
        return Err(Error::TeamTemplateRequired(project));
    }
    let mut answers = record.answers()?;
    answers.apply_flags(&args.set)?;
    let base = record::base_dir(&project);
    if !base.is_dir() {
        return Err(Error::BaseMissing(project));
    }
    // A dry run writes nothing, so there is nothing to protect.
    if !args.dry_run && !args.allow_dirty {
        ensure_clean(&project)?;
    }

    let template = args.template.open()?;
    // Staging inside .medforge/ keeps the final base swap a rename on one filesystem.
    let staging_parent = if args.dry_run {
        std::env::temp_dir()
    } else {
        project.join(RECORD_DIR)
    };
    let staging = fs::staging_dir(".update-", &staging_parent)?;
    let theirs = render::project(&template, &record.project_name, &answers, staging.path())?;
    // The resources added with `medforge add resource`, rendered from the new template too.
    crate::add::render_recorded(&template, &record, &answers, &theirs)?;

    let mut plan = plan(&project, &base, &theirs, &template.version)?;
    plan.extend(schema_migrations(
        &project,
        &base,
        &theirs,
        &record.project_name,
        &plan,
    )?);
    plan.sort_by(|a, b| a.path.cmp(&b.path));
    refresh_inventory(&project, &answers, &mut plan)?;

    let stamp = record::TemplateStamp {
        version: &template.version,
        origin: args.template.origin(),
    };
    let record_text = record::text(&record.project_name, &stamp, &answers, &record.resources);
    let record_path = record::record_path(&project);
    let old_record = std::fs::read(&record_path).map_err(Error::io("cannot read", &record_path))?;
    if old_record != record_text.as_bytes() {
        plan.push(Planned {
            path: format!("{RECORD_DIR}/{RECORD_FILE}"),
            action: Action::Updated,
            note: Some("the new answers and versions".to_owned()),
            outcome: Outcome::Write {
                content: record_text.into_bytes(),
                permissions: None,
            },
        });
    }

    let mut files = Vec::new();
    for planned in &plan {
        let diff = match (&planned.outcome, args.dry_run) {
            (Outcome::Keep, _) | (_, false) => None,
            (outcome, true) => {
                let old = read_optional(&project.join(&planned.path))?;
                let new = match outcome {
                    Outcome::Write { content, .. } => Some(content.as_slice()),
                    _ => None,
                };
                Some(merge::unified_diff(&planned.path, old.as_deref(), new))
            }
        };
        files.push(FileChange {
            path: planned.path.clone(),
            action: planned.action,
            note: planned.note.clone(),
            diff,
        });
    }

    if !args.dry_run {
        apply(&project, &plan)?;
        record::record_migrations(&project)?;
        replace_base(&project, &theirs)?;
    }

    let conflicts = files
        .iter()
        .filter(|f| f.action == Action::Conflict)
        .map(|f| f.path.clone())
        .collect();
    let migrations_withheld = files
        .iter()
        .filter(|f| f.action == Action::Withheld)
        .map(|f| f.path.clone())
        .collect();
    Ok(UpdateReport {
        path: project,
        dry_run: args.dry_run,
        from: Versions {
            generator_version: record.generator_version,
            template_version: record.template_version,
        },
        to: Versions {
            generator_version: env!("CARGO_PKG_VERSION").to_owned(),
            template_version: template.version,
        },
        answers,
        files,
        conflicts,
        migrations_withheld,
    })
}

/// Whether version `a` is newer than `b` (`major.minor.patch`, pre-release tags ignored).
fn newer(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['-', '+'])
            .next()
            .unwrap_or_default()
            .split('.')
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    parts(a) > parts(b)
}

/// Refuses a git project with uncommitted changes: the update should be one reviewable,
/// revertible change. A project outside git (or without git installed) is not checked.
fn ensure_clean(project: &Path) -> Result<()> {
    let git = |args: &[&str]| Command::new("git").args(args).current_dir(project).output();
    let inside = git(&["rev-parse", "--is-inside-work-tree"]);
    if !inside.is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true")) {
        return Ok(());
    }
    let status = git(&["status", "--porcelain", "--", "."])
        .map_err(Error::io("cannot run git status in", project))?;
    if !status.status.success() {
        return Err(Error::io("cannot run git status in", project)(
            std::io::Error::other(String::from_utf8_lossy(&status.stderr).trim().to_owned()),
        ));
    }
    if status.stdout.is_empty() {
        Ok(())
    } else {
        Err(Error::DirtyTree(project.to_owned()))
    }
}

/// Decides every file's outcome; writes nothing.
fn plan(
    project: &Path,
    base: &Path,
    theirs: &Path,
    template_version: &str,
) -> Result<Vec<Planned>> {
    let paths: BTreeSet<String> = record::generated_files(base)?
        .into_iter()
        .chain(record::generated_files(theirs)?)
        .collect();
    let mut plan = Vec::new();
    for path in paths {
        let b = read_optional(&base.join(&path))?;
        let o = read_optional(&project.join(&path))?;
        let t = read_optional(&theirs.join(&path))?;
        let theirs_permissions = || permissions(&theirs.join(&path));
        let planned = |action, note: Option<String>, outcome| Planned {
            path: path.clone(),
            action,
            note,
            outcome,
        };
        let step = match (b, o, t) {
            (None, None, Some(t)) => Some(planned(
                Action::Added,
                None,
                Outcome::Write {
                    content: t,
                    permissions: theirs_permissions(),
                },
            )),
            (_, Some(o), Some(t)) if o == t => None,
            (Some(b), Some(o), Some(t)) if b == o => Some(planned(
                Action::Updated,
                None,
                Outcome::Write {
                    content: t,
                    permissions: None,
                },
            )),
            (Some(b), Some(_), Some(t)) if b == t => None,
            (b, Some(o), Some(t)) => {
                let b = b.unwrap_or_default();
                Some(match merge::merge(&b, &o, &t, template_version) {
                    Merged::Clean(content) => planned(
                        Action::Merged,
                        None,
                        Outcome::Write {
                            content,
                            permissions: None,
                        },
                    ),
                    Merged::Conflict(content) => planned(
                        Action::Conflict,
                        Some(conflict_note(b.is_empty())),
                        Outcome::Write {
                            content,
                            permissions: None,
                        },
                    ),
                    Merged::BinaryConflict => planned(
                        Action::Conflict,
                        Some(format!(
                            "binary file changed by you and by the template: yours is kept; \
                             the template's is {RECORD_DIR}/base/{path}"
                        )),
                        Outcome::Keep,
                    ),
                })
            }
            (Some(b), Some(o), None) if b == o => {
                Some(planned(Action::Removed, None, Outcome::Remove))
            }
            (Some(_), Some(_), None) => Some(planned(
                Action::Kept,
                Some(
                    "the template no longer has this file, and you changed it, so it stays; \
                     delete it if you no longer need it"
                        .to_owned(),
                ),
                Outcome::Keep,
            )),
            (Some(b), None, Some(t)) if b != t => Some(planned(
                Action::Restored,
                Some(
                    "you deleted this file and the template changed it, so the template's \
                     version is back; delete it again if you still do not want it"
                        .to_owned(),
                ),
                Outcome::Write {
                    content: t,
                    permissions: theirs_permissions(),
                },
            )),
            // Deleted by you and unchanged by the template, or gone on both sides.
            (Some(_), None, _) | (None, _, None) => None,
        };
        plan.extend(step.map(withhold_applied_migration));
    }
    Ok(plan)
}

/// Whether a project path is a migration sqlx reads.
fn is_migration(path: &str) -> bool {
    path.strip_prefix(MIGRATIONS_DIR)
        .is_some_and(|rest| rest.starts_with('/') && rest.ends_with(".sql"))
}

/// Turns a change to, or the removal of, a migration the project has into a report: a
/// database may have applied it (SPEC 6).
fn withhold_applied_migration(planned: Planned) -> Planned {
    let changes_existing = matches!(
        planned.action,
        Action::Updated | Action::Merged | Action::Conflict | Action::Removed | Action::Kept
    );
    if !is_migration(&planned.path) || !changes_existing {
        return planned;
    }
    let note = if matches!(planned.action, Action::Removed | Action::Kept) {
        "the template no longer has this migration, but a database may have applied it, so \
         it stays (migrations are immutable)"
            .to_owned()
    } else {
        format!(
            "the template changed this migration, but a database may have applied it, so it \
             stays as it is (migrations are immutable); the template's version is \
             {RECORD_DIR}/base/{}",
            planned.path
        )
    };
    Planned {
        action: Action::Withheld,
        note: Some(note),
        outcome: Outcome::Keep,
        ..planned
    }
}

/// The migrations `update` writes itself, numbered after every migration the project and
/// the template have: one that revokes the service role's privileges on the tables the
/// template no longer creates (a module removed: the rows stay, for retention), and one
/// that runs again the template's migrations the project already holds but the last
/// render lacked (a module added back after its removal revoked access).
fn schema_migrations(
    project: &Path,
    base: &Path,
    theirs: &Path,
    project_name: &str,
    plan: &[Planned],
) -> Result<Vec<Planned>> {
    let base_sources = migration_sources(base)?;
    let theirs_sources = migration_sources(theirs)?;
    let created = |sources: &[(String, String)]| -> BTreeSet<String> {
        Schema::from_sources(sources.to_vec())
            .tables
            .into_iter()
            .map(|t| t.name)
            .collect()
    };
    let base_tables = created(&base_sources);
    let dropped: Vec<String> = base_tables
        .difference(&created(&theirs_sources))
        .cloned()
        .collect();
    let base_paths: BTreeSet<&str> = base_sources.iter().map(|(p, _)| p.as_str()).collect();
    let mut rerun = Vec::new();
    for (path, text) in &theirs_sources {
        let planned_here = plan.iter().any(|p| &p.path == path);
        if base_paths.contains(path.as_str()) || planned_here {
            continue;
        }
        // In the project unchanged, not in the last render: the module was removed with
        // its migration kept, and is back.
        if read_optional(&project.join(path))?.as_deref() == Some(text.as_bytes()) {
            rerun.push((path.clone(), text.clone()));
        }
    }

    let mut version = next_version(project, theirs)?;
    let mut out = Vec::new();
    if !dropped.is_empty() {
        out.push(Planned {
            path: format!(
                "{MIGRATIONS_DIR}/{version}_revoke_{}.sql",
                dropped.join("_")
            ),
            action: Action::Added,
            note: Some(format!(
                "the template no longer creates {}: the rows stay (retention), and this \
                 migration revokes the service role's access",
                dropped.join(", ")
            )),
            outcome: Outcome::Write {
                content: revoke_sql(&dropped, project_name).into_bytes(),
                permissions: None,
            },
        });
        version += 1;
    }
    for (path, text) in rerun {
        let name = path.rsplit('/').next().unwrap_or(&path);
        let description = name.split_once('_').map_or(name, |(_, rest)| rest);
        out.push(Planned {
            path: format!("{MIGRATIONS_DIR}/{version}_again_{description}"),
            action: Action::Added,
            note: Some(format!(
                "{path} is back in the template and a database has applied it already: this \
                 copy runs it again (it is idempotent), granting the service role its access"
            )),
            outcome: Outcome::Write {
                content: format!(
                    "-- Written by `medforge update`: {path} again, for a database that \
                     applied it before\n-- its module was removed (which revoked the service \
                     role's access).\n\n{text}"
                )
                .into_bytes(),
                permissions: None,
            },
        });
        version += 1;
    }
    Ok(out)
}

/// The up migrations of a rendered tree, as `(path, text)`.
fn migration_sources(root: &Path) -> Result<Vec<(String, String)>> {
    let mut sources = Vec::new();
    for path in sql_paths(root, MIGRATIONS_DIR)? {
        if !is_up_migration(&path) {
            continue;
        }
        if let Some(text) = read_optional(&root.join(&path))? {
            sources.push((path, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    Ok(sources)
}

/// Revokes the service role's privileges on `tables`, each only where it exists: a
/// database that never had the table (the module was never migrated) skips it.
fn revoke_sql(tables: &[String], project_name: &str) -> String {
    let role = format!("{}_service", project_name.replace('-', "_"));
    let mut sql = format!(
        "-- Written by `medforge update`: the template no longer creates {}.\n\
         -- Migrations are immutable (SPEC 6), so nothing is dropped: the tables and their rows\n\
         -- stay for retention (HIPAA 164.316(b)(2)(i)), and the service role loses every\n\
         -- privilege on them (HIPAA 164.308(a)(4), minimum necessary).\n\
         DO $$\nBEGIN\n",
        tables.join(", ")
    );
    for table in tables {
        sql.push_str(&format!(
            "    IF to_regclass('public.{table}') IS NOT NULL THEN\n        \
             REVOKE ALL ON TABLE public.{table} FROM {role};\n    END IF;\n"
        ));
    }
    sql.push_str("END\n$$;\n");
    sql
}

fn conflict_note(new_on_both_sides: bool) -> String {
    if new_on_both_sides {
        "you and the template both created this file: resolve the <<<<<<< markers".to_owned()
    } else {
        "you and the template changed the same lines: resolve the <<<<<<< markers".to_owned()
    }
}

/// The PHI inventory describes the project's migrations (template and yours), not just the
/// template's: fill its section from the migrations as they will be after this update.
fn refresh_inventory(project: &Path, answers: &Answers, plan: &mut Vec<Planned>) -> Result<()> {
    let planned_content = |plan: &[Planned], path: &str| -> Option<Option<Vec<u8>>> {
        plan.iter()
            .find(|p| p.path == path)
            .and_then(|p| match &p.outcome {
                Outcome::Write { content, .. } => Some(Some(content.clone())),
                Outcome::Remove => Some(None),
                Outcome::Keep => None,
            })
    };
    let current = |plan: &[Planned], path: &str| -> Result<Option<Vec<u8>>> {
        match planned_content(plan, path) {
            Some(content) => Ok(content),
            None => read_optional(&project.join(path)),
        }
    };

    let Some(doc) = current(plan, INVENTORY_FILE)? else {
        return Ok(());
    };
    let mut migration_paths: BTreeSet<String> = sql_paths(project, MIGRATIONS_DIR)?
        .into_iter()
        .filter(|path| is_up_migration(path))
        .collect();
    migration_paths.extend(
        plan.iter()
            .filter(|p| p.path.starts_with(&format!("{MIGRATIONS_DIR}/")))
            .map(|p| p.path.clone()),
    );
    let mut sources = Vec::new();
    for path in migration_paths {
        if let Some(text) = current(plan, &path)? {
            sources.push((path, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    let Some(filled) = inventory::fill(
        &String::from_utf8_lossy(&doc),
        &Schema::from_sources(sources),
        &answers.policy().data_residency,
    ) else {
        return Ok(());
    };
    if filled.as_bytes() == doc.as_slice() {
        return Ok(());
    }
    let on_disk = read_optional(&project.join(INVENTORY_FILE))?;
    let still_conflicted = merge::has_conflict_markers(filled.as_bytes());
    match plan.iter_mut().find(|p| p.path == INVENTORY_FILE) {
        Some(planned) => {
            if planned.action == Action::Conflict && !still_conflicted {
                // The conflict was inside the generated section, which is now recomputed.
                planned.action = Action::Merged;
                planned.note = None;
            }
            planned.outcome = Outcome::Write {
                content: filled.into_bytes(),
                permissions: None,
            };
        }
        None if on_disk.as_deref() != Some(filled.as_bytes()) => plan.push(Planned {
            path: INVENTORY_FILE.to_owned(),
            action: Action::Updated,
            note: Some(format!("PHI inventory refreshed from {MIGRATIONS_DIR}/")),
            outcome: Outcome::Write {
                content: filled.into_bytes(),
                permissions: None,
            },
        }),
        None => {}
    }
    plan.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

/// Writes the plan: every file through a temporary file and a rename.
fn apply(project: &Path, plan: &[Planned]) -> Result<()> {
    for planned in plan {
        let path = project.join(&planned.path);
        match &planned.outcome {
            Outcome::Write {
                content,
                permissions,
            } => {
                fs::create_parent(&path)?;
                write_atomic(&path, content, permissions.clone())?;
            }
            Outcome::Remove => {
                std::fs::remove_file(&path).map_err(Error::io("cannot remove", &path))?;
                remove_empty_parents(project, &path);
            }
            Outcome::Keep => {}
        }
    }
    Ok(())
}

/// Removes the folders a removed file leaves empty, up to the project root.
fn remove_empty_parents(project: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == project || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Makes the new render the merge base of the next update.
fn replace_base(project: &Path, rendered: &Path) -> Result<()> {
    let base = record::base_dir(project);
    let old = project.join(RECORD_DIR).join(".base-old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(Error::io("cannot remove", &old))?;
    }
    std::fs::rename(&base, &old).map_err(Error::io("cannot replace", &base))?;
    if let Err(e) = std::fs::rename(rendered, &base) {
        // Put the old base back: the next update then merges against it again.
        let _ = std::fs::rename(&old, &base);
        return Err(Error::io("cannot replace", &base)(e));
    }
    std::fs::remove_dir_all(&old).map_err(Error::io("cannot remove", &old))
}

fn permissions(path: &Path) -> Option<std::fs::Permissions> {
    std::fs::metadata(path).ok().map(|m| m.permissions())
}

/// The human summary, for stderr.
pub fn human_summary(report: &UpdateReport) -> String {
    let mut out = String::new();
    let verb = if report.dry_run {
        "Would update"
    } else {
        "Updated"
    };
    out.push_str(&format!(
        "{verb} {}: template {} -> {}, medforge {} -> {}\n",
        report.path.display(),
        report.from.template_version,
        report.to.template_version,
        report.from.generator_version,
        report.to.generator_version,
    ));
    if report.files.is_empty() {
        out.push_str("Already up to date: nothing to change.\n");
    }
    for file in &report.files {
        out.push_str(&format!("  {:<9} {}\n", file.action.verb(), file.path));
        if let Some(note) = &file.note {
            out.push_str(&format!("            {note}\n"));
        }
    }
    if report.dry_run {
        out.push_str("Nothing was written (--dry-run).\n");
    } else if report.has_conflicts() {
        out.push_str(&format!(
            "{} file(s) with conflicts: resolve them, then run `medforge check` and commit.\n",
            report.conflicts.len()
        ));
    } else if !report.files.is_empty() {
        out.push_str("Review the changes (git diff), run `medforge check`, and commit.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(newer("0.10.0", "0.9.1"));
        assert!(newer("1.0.0", "0.99.99"));
        assert!(!newer("0.1.0", "0.1.0"));
        assert!(!newer("0.1.0-rc.1", "0.1.0"));
        assert!(!newer("0.1.0", "0.2.0"));
    }
}
