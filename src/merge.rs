//! Three-way merge of one file, and unified diffs, for `medforge update` (diffy
//! underneath).
//!
//! base = what medforge generated, ours = the project now, theirs = the new render. Text
//! is merged line by line; where both sides changed the same lines the result holds git's
//! conflict markers, labelled so a reader knows which side is which. Binary files are
//! never merged: both sides changing one is a conflict.

use diffy::{ConflictStyle, DiffOptions, IncompleteHunkStyle, MergeOptions};

/// The label on the project's side of a conflict.
pub const OURS_LABEL: &str = "ours (your project)";

/// The outcome of merging one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Both sides' changes, combined.
    Clean(Vec<u8>),
    /// The combined text, with conflict markers around the lines both sides changed.
    Conflict(Vec<u8>),
    /// Both sides changed a binary file; nothing was merged.
    BinaryConflict,
}

/// Merges `ours` and `theirs` against `base` (empty when the file is new on both sides).
/// `template_version` labels the template's side of a conflict.
pub fn merge(base: &[u8], ours: &[u8], theirs: &[u8], template_version: &str) -> Merged {
    let (Some(base), Some(ours), Some(theirs)) = (text(base), text(ours), text(theirs)) else {
        return Merged::BinaryConflict;
    };
    let mut options = MergeOptions::new();
    options
        .set_conflict_style(ConflictStyle::Merge)
        // Every marker on a line of its own, as git writes them.
        .set_incomplete_hunk_style(IncompleteHunkStyle::Git);
    match options.merge(base, ours, theirs) {
        Ok(merged) => Merged::Clean(merged.into_bytes()),
        Err(conflicted) => Merged::Conflict(label(&conflicted, template_version).into_bytes()),
    }
}

/// diffy labels the sides `ours` and `theirs`; say which is the project and which the
/// template (and its version).
fn label(conflicted: &str, template_version: &str) -> String {
    let theirs = format!(">>>>>>> template {template_version}");
    let ours = format!("<<<<<<< {OURS_LABEL}");
    conflicted
        .split_inclusive('\n')
        .map(|line| match line.trim_end_matches('\n') {
            "<<<<<<< ours" => format!("{ours}\n"),
            ">>>>>>> theirs" => format!("{theirs}\n"),
            _ => line.to_owned(),
        })
        .collect()
}

/// The content as text, or `None` for binary content (a NUL byte in the first 8000
/// bytes, as git decides, or invalid UTF-8).
pub fn text(content: &[u8]) -> Option<&str> {
    if content.iter().take(8000).any(|&b| b == 0) {
        return None;
    }
    std::str::from_utf8(content).ok()
}

/// Whether merged text still holds a conflict marker line.
pub fn has_conflict_markers(content: &[u8]) -> bool {
    text(content).is_some_and(|text| !conflicts(text).is_empty())
}

/// An unresolved conflict in a text: the 1-based lines of its opening and closing
/// markers. A closing marker with no opening one has no `start`; an opening one never
/// closed has no `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// The conflicts git's markers (and `merge`'s) leave in a text: a `<<<<<<< ` line, a
/// `=======` line between, and a `>>>>>>> ` line. `=======` alone is not one: Markdown
/// underlines headings with it.
pub fn conflicts(text: &str) -> Vec<Conflict> {
    let is_marker = |line: &str, marker: &str| {
        line.strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    };
    let mut found = Vec::new();
    let mut open: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let number = index + 1;
        if is_marker(line, "<<<<<<<") {
            if let Some(start) = open.replace(number) {
                found.push(Conflict {
                    start: Some(start),
                    end: None,
                });
            }
        } else if is_marker(line, ">>>>>>>") {
            found.push(Conflict {
                start: open.take(),
                end: Some(number),
            });
        }
    }
    if let Some(start) = open {
        found.push(Conflict {
            start: Some(start),
            end: None,
        });
    }
    found
}

/// A unified diff of one file (`None` = absent), in git's form.
pub fn unified_diff(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> String {
    let name = |side: &str, content: Option<&[u8]>| match content {
        Some(_) => format!("{side}/{path}"),
        None => "/dev/null".to_owned(),
    };
    let (old_name, new_name) = (name("a", old), name("b", new));
    match (text(old.unwrap_or_default()), text(new.unwrap_or_default())) {
        (Some(old_text), Some(new_text)) => {
            let patch = DiffOptions::new()
                .set_original_filename(old_name)
                .set_modified_filename(new_name)
                .create_patch(old_text, new_text);
            format!("diff --git a/{path} b/{path}\n{patch}")
        }
        _ => {
            format!("diff --git a/{path} b/{path}\nBinary files {old_name} and {new_name} differ\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

    #[test]
    fn changes_to_different_lines_both_survive() {
        let ours = BASE.replace("one", "ONE (mine)");
        let theirs = BASE.replace("seven", "SEVEN (template)");
        let merged = merge(BASE.as_bytes(), ours.as_bytes(), theirs.as_bytes(), "0.2.0");
        assert_eq!(
            merged,
            Merged::Clean(
                "ONE (mine)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (template)\n"
                    .as_bytes()
                    .to_vec()
            )
        );
    }

    #[test]
    fn changes_to_the_same_line_conflict_with_labelled_markers() {
        let ours = BASE.replace("four", "4 (mine)");
        let theirs = BASE.replace("four", "4 (template)");
        let Merged::Conflict(text) =
            merge(BASE.as_bytes(), ours.as_bytes(), theirs.as_bytes(), "0.2.0")
        else {
            panic!("expected a conflict");
        };
        let text = String::from_utf8(text).unwrap();
        assert_eq!(
            text,
            "one\ntwo\nthree\n<<<<<<< ours (your project)\n4 (mine)\n=======\n4 (template)\n\
             >>>>>>> template 0.2.0\nfive\nsix\nseven\n"
        );
        assert!(has_conflict_markers(text.as_bytes()));
    }

    #[test]
    fn conflicts_are_found_by_their_marker_lines() {
        let text = "# Title\n=======\n<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n\
                    ok\n>>>>>>> stray\n<<<<<<<\nunclosed\n";
        assert_eq!(
            conflicts(text),
            [
                Conflict {
                    start: Some(3),
                    end: Some(7)
                },
                Conflict {
                    start: None,
                    end: Some(9)
                },
                Conflict {
                    start: Some(10),
                    end: None
                },
            ]
        );
        // A heading's underline, or a marker-like word inside a line, is no conflict.
        assert!(conflicts("Title\n=======\nsay <<<<<<< here\n<<<<<<<<\n").is_empty());
        assert_eq!(conflicts("<<<<<<< a\r\n=======\r\n>>>>>>> b\r\n").len(), 1);
    }

    #[test]
    fn a_missing_final_newline_keeps_markers_on_their_own_lines() {
        let Merged::Conflict(text) = merge(b"a", b"b", b"c", "1.0.0") else {
            panic!("expected a conflict");
        };
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("\n=======\n"), "{text}");
        assert!(text.ends_with(">>>>>>> template 1.0.0\n"), "{text}");
    }

    #[test]
    fn binary_files_are_not_merged() {
        assert_eq!(
            merge(b"\0a", b"\0b", b"\0c", "1.0.0"),
            Merged::BinaryConflict
        );
        assert_eq!(
            merge(b"a", &[0xff, 0xfe], b"c", "1.0.0"),
            Merged::BinaryConflict
        );
    }

    #[test]
    fn diffs_name_both_sides_like_git() {
        let diff = unified_diff("README.md", Some(b"a\nb\n"), Some(b"a\nc\n"));
        assert!(
            diff.starts_with(
                "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n"
            ),
            "{diff}"
        );
        assert!(diff.contains("-b\n+c\n"), "{diff}");
        let added = unified_diff("new.txt", None, Some(b"x\n"));
        assert!(added.contains("--- /dev/null\n+++ b/new.txt\n"), "{added}");
        let binary = unified_diff("logo.png", Some(b"\0"), None);
        assert!(
            binary.contains("Binary files a/logo.png and /dev/null differ"),
            "{binary}"
        );
    }
}
