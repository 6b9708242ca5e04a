//! Puts a rendered `Cargo.lock` in the order cargo writes it.
//!
//! The template's lock names the service crate `{{crate_name}}`; once rendered, the
//! project's name sits where the placeholder sorted, not where the name sorts. Cargo would
//! rewrite the lock on the first build and leave the new project's git tree dirty
//! (SPEC 6). Cargo orders `[[package]]` blocks by name, then version, then source, and
//! sorts each `dependencies` array; this does the same, line by line, so everything else
//! in the file stays byte for byte as the template has it.

use std::cmp::Ordering;
use std::path::Path;

use crate::error::{Error, Result};

/// Re-sorts the lock file at `path` in place; a project without one is left alone.
pub fn sort_file(path: &Path) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot read", path)(e)),
    };
    let sorted = sort(&text);
    if sorted != text {
        std::fs::write(path, sorted).map_err(Error::io("cannot write", path))?;
    }
    Ok(())
}

/// The lock `text` with its packages and their dependency lists in cargo's order.
pub fn sort(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.iter().position(|line| *line == "[[package]]") else {
        return text.to_owned();
    };
    // The packages run from the first `[[package]]` to the first other table
    // (`[metadata]`, `[[patch.unused]]`), which cargo writes after them.
    let end = lines[first..]
        .iter()
        .position(|line| line.starts_with('[') && *line != "[[package]]")
        .map_or(lines.len(), |offset| first + offset);

    let mut packages: Vec<Package> = Vec::new();
    for line in &lines[first..end] {
        if *line == "[[package]]" {
            packages.push(Package::default());
        }
        if let Some(package) = packages.last_mut() {
            package.lines.push(line);
        }
    }
    for package in &mut packages {
        package.finish();
    }
    packages.sort_by(Package::cmp);

    let mut out = String::with_capacity(text.len());
    for line in &lines[..first] {
        out.push_str(line);
        out.push('\n');
    }
    for (index, package) in packages.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        for line in &package.lines {
            out.push_str(line);
            out.push('\n');
        }
    }
    if end < lines.len() {
        out.push('\n');
        for line in &lines[end..] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One `[[package]]` block, its blank separator lines dropped.
#[derive(Default)]
struct Package<'a> {
    lines: Vec<&'a str>,
    name: &'a str,
    version: &'a str,
    source: &'a str,
}

impl<'a> Package<'a> {
    fn finish(&mut self) {
        while self.lines.last().is_some_and(|line| line.trim().is_empty()) {
            self.lines.pop();
        }
        for line in &self.lines {
            if let Some(value) = string_value(line, "name") {
                self.name = value;
            } else if let Some(value) = string_value(line, "version") {
                self.version = value;
            } else if let Some(value) = string_value(line, "source") {
                self.source = value;
            }
        }
        if let Some(open) = self.lines.iter().position(|l| *l == "dependencies = [")
            && let Some(len) = self.lines[open + 1..].iter().position(|l| *l == "]")
        {
            self.lines[open + 1..open + 1 + len].sort_by(|a, b| dependency_cmp(a, b));
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(other.name)
            .then_with(|| version_cmp(self.version, other.version))
            .then_with(|| self.source.cmp(other.source))
    }
}

/// The value of `key = "value"`, if `line` is that.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix(key)?
        .strip_prefix(" = \"")?
        .strip_suffix('"')
}

/// Cargo sorts a package's dependencies as `(name, version, source)` with each part
/// compared as text; an entry is ` "name[ version[ (source)]]",`.
fn dependency_cmp(a: &str, b: &str) -> Ordering {
    fn key(line: &str) -> (&str, Option<&str>, Option<&str>) {
        let entry = line.trim().trim_end_matches(',').trim_matches('"');
        let mut parts = entry.splitn(3, ' ');
        (parts.next().unwrap_or(""), parts.next(), parts.next())
    }
    key(a).cmp(&key(b))
}

/// Semantic-version order: numbers compared as numbers, a pre-release before its release.
fn version_cmp(a: &str, b: &str) -> Ordering {
    fn split(version: &str) -> (Vec<u64>, Option<&str>) {
        let version = version.split('+').next().unwrap_or(version);
        let (core, pre) = match version.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (version, None),
        };
        let numbers = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
        (numbers, pre)
    }
    fn pre_cmp(a: &str, b: &str) -> Ordering {
        let mut left = a.split('.');
        let mut right = b.split('.');
        loop {
            match (left.next(), right.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => x.cmp(y),
                    };
                    if order != Ordering::Equal {
                        return order;
                    }
                }
            }
        }
    }
    let (a_core, a_pre) = split(a);
    let (b_core, b_pre) = split(b);
    a_core.cmp(&b_core).then_with(|| match (a_pre, b_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => pre_cmp(x, y),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template lock whose service crate is still the placeholder, sorted where `{`
    /// sorts (after every lowercase name).
    const TEMPLATE: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "bench"
version = "0.1.0"
dependencies = [
 "phi-guard",
 "serde",
 "{{crate_name}}",
]

[[package]]
name = "phi-guard"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.10"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.9"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "{{crate_name}}"
version = "0.1.0"
dependencies = [
 "phi-guard",
 "serde 1.0.10",
]
"#;

    fn rendered(name: &str) -> String {
        sort(&TEMPLATE.replace("{{crate_name}}", name))
    }

    fn package_names(lock: &str) -> Vec<&str> {
        lock.lines()
            .filter_map(|line| string_value(line, "name"))
            .collect()
    }

    fn bench_dependencies(lock: &str) -> Vec<&str> {
        let bench = lock.find("name = \"bench\"").unwrap();
        let start = bench + lock[bench..].find("dependencies = [\n").unwrap();
        let start = start + "dependencies = [\n".len();
        let end = start + lock[start..].find(']').unwrap();
        lock[start..end].lines().map(str::trim).collect()
    }

    #[test]
    fn a_name_that_sorts_first_moves_to_the_front() {
        let lock = rendered("ab");
        assert_eq!(
            package_names(&lock),
            ["ab", "bench", "phi-guard", "serde", "serde"]
        );
        assert_eq!(
            bench_dependencies(&lock),
            ["\"ab\",", "\"phi-guard\",", "\"serde\","]
        );
    }

    #[test]
    fn a_name_that_sorts_last_stays_last() {
        let lock = rendered("zz");
        assert_eq!(
            package_names(&lock),
            ["bench", "phi-guard", "serde", "serde", "zz"]
        );
        assert_eq!(
            bench_dependencies(&lock),
            ["\"phi-guard\",", "\"serde\",", "\"zz\","]
        );
    }

    /// `phi-guard` is a prefix of the name: the shorter name sorts first.
    #[test]
    fn a_name_that_extends_another_sorts_after_it() {
        let lock = rendered("phi-guard-x");
        assert_eq!(
            package_names(&lock),
            ["bench", "phi-guard", "phi-guard-x", "serde", "serde"]
        );
        assert_eq!(
            bench_dependencies(&lock),
            ["\"phi-guard\",", "\"phi-guard-x\",", "\"serde\","]
        );
    }

    #[test]
    fn versions_sort_as_versions_and_the_layout_is_cargos() {
        let lock = rendered("ab");
        assert!(
            lock.find("version = \"1.0.9\"").unwrap() < lock.find("version = \"1.0.10\"").unwrap()
        );
        assert!(lock.starts_with("# This file is automatically @generated by Cargo.\n"));
        assert!(lock.contains(" \"serde 1.0.10\",\n]\n\n[[package]]\nname = \"bench\"\n"));
        assert!(lock.ends_with("version = \"1.0.10\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"), "{lock}");
        assert!(!lock.contains("\n\n\n"));
    }

    #[test]
    fn a_lock_cargo_wrote_is_left_byte_for_byte() {
        let own = include_str!("../Cargo.lock");
        assert_eq!(sort(own), own);
    }

    #[test]
    fn tables_after_the_packages_stay_after_them() {
        let lock = format!("{TEMPLATE}\n[metadata]\nkey = \"value\"\n");
        let sorted = sort(&lock.replace("{{crate_name}}", "ab"));
        assert!(
            sorted.ends_with("crates.io-index\"\n\n[metadata]\nkey = \"value\"\n"),
            "{sorted}"
        );
    }

    #[test]
    fn pre_releases_sort_before_their_release() {
        assert_eq!(version_cmp("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(version_cmp("1.0.0-rc.2", "1.0.0-rc.10"), Ordering::Less);
        assert_eq!(version_cmp("0.10.0", "0.9.9"), Ordering::Greater);
    }
}
