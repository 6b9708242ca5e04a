//! Recorded migrations: every migration in `.medforge/migrations.sha384` (written by `new`
//! and `update`) must still be in `migrations/` with the same content. A database may have
//! applied it, and sqlx then refuses to migrate: "migration N was previously applied but
//! has been modified", or "... applied but is missing". Schema changes belong in a new
//! migration.

use std::path::Path;

use super::{Context, Family, Finding, Rule};
use crate::error::Result;
use crate::fs::read_optional;
use crate::record::{self, MIGRATION_SUMS_FILE, RECORD_DIR};

pub const RULE: Rule = Rule {
    id: "migrations-unchanged",
    title: "No recorded migration was changed or removed",
    help: "Migrations are immutable (README.md, \"Database\"). A database that applied a migration refuses to \
           migrate once its file changed or is gone, and a database built from the changed \
           file differs from one that applied the original. Put schema changes in a new \
           migration after the highest one.",
};

pub const FAMILY: Family = Family {
    rules: &[RULE],
    check: |ctx: &Context| check(ctx.project),
};

/// A finding for each recorded migration that changed or is gone; none without a list.
pub fn check(project: &Path) -> Result<Vec<Finding>> {
    let Some(sums) = record::read_migration_sums(project)? else {
        return Ok(Vec::new());
    };
    let list = format!("{RECORD_DIR}/{MIGRATION_SUMS_FILE}");
    let mut findings = Vec::new();
    for (path, sum) in sums {
        let message = match read_optional(&project.join(&path))? {
            None => format!(
                "was recorded in {list} but is gone, and a database that applied it refuses \
                 to migrate; restore it (git history, or .medforge/base/{path}) and undo a \
                 schema change with a new migration"
            ),
            Some(content) if record::sha384_hex(&content) != sum => format!(
                "changed since it was recorded in {list}, and a database that applied it \
                 refuses to migrate; restore the recorded content and put the change in a \
                 new migration after the highest one"
            ),
            Some(_) => continue,
        };
        findings.push(Finding::in_file(RULE.id, &path, message));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_or_removed_recorded_migration_is_reported() {
        let project = tempfile::tempdir().unwrap();
        let root = project.path();
        assert!(check(root).unwrap().is_empty(), "no list, nothing to check");
        let migrations = root.join("migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        for name in ["0001_a.sql", "0002_b.sql", "0003_c.sql"] {
            std::fs::write(migrations.join(name), format!("-- {name}\n")).unwrap();
        }
        record::record_migrations(root).unwrap();
        assert!(check(root).unwrap().is_empty());

        std::fs::write(migrations.join("0001_a.sql"), "-- edited\n").unwrap();
        std::fs::remove_file(migrations.join("0002_b.sql")).unwrap();
        std::fs::write(migrations.join("0004_new.sql"), "-- not yet recorded\n").unwrap();
        let findings = check(root).unwrap();
        let found: Vec<_> = findings
            .iter()
            .map(|f| (f.file.as_str(), f.message.contains("gone")))
            .collect();
        assert_eq!(
            found,
            [
                ("migrations/0001_a.sql", false),
                ("migrations/0002_b.sql", true)
            ]
        );
    }
}
