//! Project names: they become crate names and directory names, so `new` checks the name
//! it is given and `update` and `check` the one a project recorded.

use crate::error::{Error, Result};

/// Project names become crate names and directory names: keep them to what cargo accepts
/// everywhere and what reads well in a path.
pub fn validate(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > 64 {
        return invalid("use at most 64 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid("start with a lowercase letter (a-z)");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return invalid(&format!(
            "`{bad}` is not allowed; use lowercase letters, digits, `-` and `_`"
        ));
    }
    if name.ends_with(['-', '_']) {
        return invalid("end with a letter or digit");
    }
    // Cargo treats `-` and `_` alike in crate names, so `phi-guard` and `phi_guard` clash.
    let crate_name = name.replace('-', "_");
    let is = |list: &[&str]| {
        list.iter()
            .any(|reserved| reserved.replace('-', "_") == crate_name)
    };
    if is(WORKSPACE_CRATES) {
        return invalid(
            "the generated workspace has a crate of that name already (guardrails/, tools/, \
             bench/); pick another, e.g. `clinic-portal`",
        );
    }
    if is(STD_CRATES) {
        return invalid(
            "it is a crate of Rust's standard library, which the project could no longer \
             use; pick another, e.g. `clinic-portal`",
        );
    }
    if is(KEYWORDS) {
        return invalid("it is a Rust keyword, which cannot name a crate; pick another");
    }
    Ok(())
}

/// The other crates of the generated workspace: a project of the same name would collide
/// with one of them (a test keeps this list in step with the template).
const WORKSPACE_CRATES: &[&str] = &[
    "dev",
    "bench",
    "phi-guard",
    "phi-guard-macros",
    "pg-throwaway",
    "phi-scan",
];

/// The crates rustc ships; a crate of the same name shadows them.
const STD_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];

/// Rust keywords, reserved ones included: cargo refuses them as package names.
pub(crate) const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn good_names_pass() {
        for name in ["demo", "clinic-portal", "clinic_portal2", "a"] {
            validate(name).unwrap();
        }
    }

    #[test]
    fn bad_names_say_why() {
        let cases = [
            ("", "empty"),
            ("Demo", "lowercase letter"),
            ("1clinic", "lowercase letter"),
            ("clinic portal", "` ` is not allowed"),
            ("clinic/portal", "`/` is not allowed"),
            ("../etc", "lowercase letter"),
            ("clinic-", "end with a letter"),
            ("self", "keyword"),
            ("std", "standard library"),
            ("proc-macro", "standard library"),
            ("dev", "generated workspace"),
            ("phi_guard", "generated workspace"),
        ];
        for (name, expected) in cases {
            let err = validate(name).unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
        assert!(validate(&"a".repeat(65)).is_err());
    }

    /// Every member of the generated workspace (the template's, and the vendored
    /// guardrails) is a reserved name, so a project can never collide with one.
    #[test]
    fn every_crate_of_the_generated_workspace_is_reserved() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = std::fs::read_to_string(root.join("templates/service/Cargo.toml")).unwrap();
        let members: Vec<&str> = manifest
            .lines()
            .skip_while(|line| !line.starts_with("members"))
            .skip(1)
            .take_while(|line| !line.starts_with(']'))
            .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix("\","))
            .filter(|member| *member != ".")
            .collect();
        assert!(members.len() >= 6, "{members:?}");
        for member in members {
            let in_template = root
                .join("templates/service")
                .join(member)
                .join("Cargo.toml");
            let path = if in_template.is_file() {
                in_template
            } else {
                root.join(member).join("Cargo.toml")
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let name = text
                .lines()
                .find_map(|line| line.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{} has no name", path.display()));
            assert!(
                WORKSPACE_CRATES.contains(&name),
                "{name} ({member}) is not reserved"
            );
        }
    }
}
