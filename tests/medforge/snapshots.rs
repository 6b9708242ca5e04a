//! insta snapshots of generated trees and key files, one set per representative
//! configuration, stored in the repository's top-level `snapshots/`.
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test
//! medforge snapshots::` and read the diff); CI fails on any unreviewed change. The names
//! are set here and the path is `snapshots/`, so neither depends on this module's place.

use std::path::Path;

use crate::support::generate;
use medforge::fs::list_files;

/// Files whose content every reviewer should see change.
const KEY_FILES: &[&str] = &[
    ".medforge/answers.toml",
    "Cargo.toml",
    "README.md",
    "src/policy.rs",
    ".gitignore",
    ".githooks/pre-commit",
    ".cursorignore",
    ".claude/settings.json",
    "AGENTS.md",
    "CLAUDE.md",
    ".zed/settings.json",
];

fn snapshot(config: &str, set: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let dir = generate(work.path(), "clinic", set);

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(format!("medforge new clinic --yes{}", flags(set)));
    settings.bind(|| {
        insta::assert_snapshot!(format!("{config}__tree"), tree(&dir));
        insta::assert_snapshot!(format!("{config}__key_files"), key_files(&dir));
    });
}

fn flags(set: &[&str]) -> String {
    set.iter()
        .map(|s| format!("--set {s}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every file, with `*` marking executables. `.medforge/base/` (the merge base of
/// `medforge update`) is one line: it must be an exact copy of the rest of the tree.
fn tree(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let base = dir.join(".medforge/base");
    let generated = medforge::record::generated_files(dir).unwrap();
    assert_eq!(
        list_files(&base).unwrap(),
        generated,
        "base lists other files"
    );
    for file in &generated {
        assert_eq!(
            std::fs::read(base.join(file)).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file} differs from its base copy"
        );
    }
    list_files(dir)
        .unwrap()
        .into_iter()
        .filter(|file| !file.starts_with(".medforge/base/"))
        .chain([".medforge/base/** (a copy of every file above but .medforge/)".to_owned()])
        .map(|file| {
            if file.starts_with(".medforge/base/") {
                return file;
            }
            let mode = std::fs::metadata(dir.join(&file))
                .unwrap()
                .permissions()
                .mode();
            if mode & 0o111 != 0 {
                format!("{file} *")
            } else {
                file
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn key_files(dir: &Path) -> String {
    KEY_FILES
        .iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(dir.join(file)).ok()?;
            Some(format!("==> {file} <==\n{text}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn default_configuration() {
    snapshot("default", &[]);
}

#[test]
fn single_clinic_patients_only_with_claude_and_cursor() {
    snapshot(
        "single_patients_claude_cursor",
        &[
            "tenancy=single",
            "modules=patients",
            "ai_tools=claude,cursor",
        ],
    );
}

#[test]
fn behind_a_tls_proxy() {
    snapshot("tls_proxy", &["tls=proxy"]);
}

/// `ui = none`: the JSON API only, without the pages, their tests, askama.toml or the
/// `web` feature.
#[test]
fn api_only_without_the_web_interface() {
    snapshot("api_only", &["ui=none"]);
}

#[test]
fn no_ai_tools_means_no_ai_files() {
    let work = tempfile::tempdir().unwrap();
    let dir = generate(work.path(), "clinic", &["ai_tools=none"]);
    let files = list_files(&dir).unwrap();
    for ai_file in [
        ".cursorignore",
        ".claude/settings.json",
        "AGENTS.md",
        ".aiderignore",
    ] {
        assert!(!files.iter().any(|f| f == ai_file), "{ai_file} emitted");
    }
}
