//! Conflict markers left in project files: `medforge update` exits 3 with the lines both
//! sides changed between `<<<<<<<` and `>>>>>>>`, and until someone resolves them the
//! file holds two versions of a control, or does not build at all.

use std::path::Path;

use super::{Context, Family, Finding, Rule};
use crate::error::{Error, Result};
use crate::fs::list_files_except;
use crate::merge;
use crate::record::RECORD_DIR;

pub const RULE: Rule = Rule {
    id: "no-conflict-markers",
    title: "No unresolved merge conflicts in project files",
    help: "README.md, \"Generated with\": where `medforge update` and a local edit changed the same lines, the file \
           gets `<<<<<<<` / `=======` / `>>>>>>>` markers and update exits 3. Until each \
           conflict is resolved the file holds both versions of the lines (or fails to \
           build), so a control may be half in place.",
};

pub const FAMILY: Family = Family {
    rules: &[RULE],
    check: |ctx: &Context| check(ctx.project),
};

/// Folders never scanned: version control, build output, and `.medforge/` (its `base/` is
/// medforge's own copy of what it generated).
const SKIPPED: &[&str] = &[".git", "target"];

/// Every conflict left in the project's text files.
pub fn check(project: &Path) -> Result<Vec<Finding>> {
    let skip = |dir: &Path| {
        dir == Path::new(RECORD_DIR)
            || dir
                .file_name()
                .is_some_and(|name| SKIPPED.iter().any(|skipped| name == *skipped))
    };
    let mut findings = Vec::new();
    for file in list_files_except(project, &skip)? {
        let path = project.join(&file);
        // Only regular files: a link may point outside the project, or at a directory.
        let metadata =
            std::fs::symlink_metadata(&path).map_err(Error::io("cannot inspect", &path))?;
        if !metadata.is_file() {
            continue;
        }
        let content = std::fs::read(&path).map_err(Error::io("cannot read", &path))?;
        let Some(text) = merge::text(&content) else {
            continue;
        };
        for conflict in merge::conflicts(text) {
            findings.push(finding(&file, conflict));
        }
    }
    Ok(findings)
}

fn finding(file: &str, conflict: merge::Conflict) -> Finding {
    const FIX: &str = "keep the lines the project needs, delete the `<<<<<<<`, `=======` and \
                       `>>>>>>>` lines, then run `medforge check` again";
    let (line, what) = match (conflict.start, conflict.end) {
        (Some(start), Some(end)) => (
            start,
            format!("holds an unresolved conflict (lines {start}-{end})"),
        ),
        (Some(start), None) => (
            start,
            "holds a `<<<<<<<` conflict marker that is never closed".to_owned(),
        ),
        (None, Some(end)) => (
            end,
            "holds a `>>>>>>>` conflict marker with no `<<<<<<<` before it".to_owned(),
        ),
        (None, None) => (1, "holds a conflict marker".to_owned()),
    };
    Finding::at(
        RULE.id,
        file,
        line,
        format!("{what}, left by a merge such as `medforge update`; {FIX}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_found_outside_the_record_and_build_output() {
        let project = tempfile::tempdir().unwrap();
        let root = project.path();
        let conflicted = "a\n<<<<<<< ours (your project)\nb\n=======\nc\n>>>>>>> template 0.2.0\n";
        for file in [
            "src/config.rs",
            ".medforge/base/src/config.rs",
            "target/debug/build.log",
            "tools/dev/target/x.txt",
            ".git/MERGE_MSG",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, conflicted).unwrap();
        }
        std::fs::write(root.join("README.md"), "# Title\n=======\nText.\n").unwrap();
        std::fs::write(root.join("logo.bin"), b"\0<<<<<<< x\n").unwrap();

        let findings = check(root).unwrap();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].file, "src/config.rs");
        assert_eq!(findings[0].line, Some(2));
        assert!(
            findings[0].message.contains("lines 2-6"),
            "{}",
            findings[0].message
        );
    }
}
