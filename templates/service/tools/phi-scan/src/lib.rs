//! Finds identifiers that look like real people's in text, so that the pre-commit hook
//! can refuse them (HIPAA 164.308(a)(1)(ii)(B)). Real identifiers never belong in this repository:
//! fixtures, tests and docs use synthetic data, kept in [`SYNTHETIC_FIXTURES`].
//!
//! Where an identifier has a check digit, only numbers whose check digit is right are
//! reported: a synthetic number with a wrong check digit passes, a real one does not.
//!
//! The detectors read ASCII only and work line by line, so a finding names its line.

use std::fmt;

mod ahv;
mod kvnr;
mod ssn;

/// The allowlisted folder for synthetic fixtures, relative to the repository root.
/// Files under it are never scanned: that is where test data that must look valid lives.
pub const SYNTHETIC_FIXTURES: &str = "fixtures/synthetic/";

/// A kind of identifier that names a real person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// US Social Security number, `AAA-GG-SSSS`.
    UsSsn,
    /// US Individual Taxpayer Identification Number, `9AA-GG-SSSS` with an ITIN group.
    UsItin,
    /// Swiss social security number (AHV/AVS), `756.XXXX.XXXX.XC`.
    SwissAhv,
    /// German health insurance number (Krankenversichertennummer), `A123456789`.
    GermanKvnr,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UsSsn => "US SSN",
            Self::UsItin => "US ITIN",
            Self::SwissAhv => "Swiss AHV number",
            Self::GermanKvnr => "German KVNR",
        })
    }
}

/// One identifier found in one file. It never holds the identifier itself: the report
/// must not repeat a real number into a terminal or a CI log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    /// 1-based.
    pub line: usize,
    pub kind: Kind,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: looks like a real {}; use synthetic data ({SYNTHETIC_FIXTURES}) instead",
            self.path, self.line, self.kind
        )
    }
}

/// Whether `path` (relative to the repository root, `/`-separated as git prints it) is
/// a synthetic fixture, which is allowed to hold valid-looking identifiers.
pub fn is_synthetic_fixture(path: &str) -> bool {
    // medforge keeps the project as generated under .medforge/base/ (the merge base of
    // `medforge update`): its copy of the synthetic fixtures is synthetic too.
    let path = path.strip_prefix(MEDFORGE_BASE).unwrap_or(path);
    path.starts_with(SYNTHETIC_FIXTURES)
}

/// Where medforge keeps the project as generated.
const MEDFORGE_BASE: &str = ".medforge/base/";

/// Scans one file's content. Synthetic fixtures and binary files yield nothing.
pub fn scan_file(path: &str, content: &[u8]) -> Vec<Finding> {
    if is_synthetic_fixture(path) || looks_binary(content) {
        return Vec::new();
    }
    content
        .split(|&b| b == b'\n')
        .enumerate()
        .flat_map(|(index, line)| {
            scan_line(line).into_iter().map(move |kind| Finding {
                path: path.to_owned(),
                line: index + 1,
                kind,
            })
        })
        .collect()
}

/// The kinds of identifier on one line, each kind once.
pub fn scan_line(line: &[u8]) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = ssn::find(line)
        .into_iter()
        .chain(ahv::find(line))
        .chain(kvnr::find(line))
        .collect();
    kinds.dedup();
    kinds
}

/// Git's own test: a NUL byte in the first 8000 bytes means binary.
fn looks_binary(content: &[u8]) -> bool {
    content.iter().take(8000).any(|&b| b == 0)
}

/// Start offsets where `line` has the `shape` (`d` a digit, `L` an uppercase letter,
/// anything else itself) as a standalone token.
fn candidates<'a>(line: &'a [u8], shape: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    (0..line.len().saturating_sub(shape.len() - 1)).filter(move |&start| {
        let end = start + shape.len();
        line[start..end].iter().zip(shape).all(|(&b, &s)| match s {
            b'd' => b.is_ascii_digit(),
            b'L' => b.is_ascii_uppercase(),
            literal => b == literal,
        }) && standalone(line, start, end)
    })
}

/// The digits of `line[start..start + len]`, separators skipped.
fn digits(line: &[u8], start: usize, len: usize) -> Vec<u32> {
    line[start..start + len]
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
        .collect()
}

/// Whether `line[start..end]` is a token of its own: not glued to letters or digits, and
/// not part of a longer number such as `1-123-45-6789` or `756.1234.5678.97.1`.
fn standalone(line: &[u8], start: usize, end: usize) -> bool {
    let joins = |b: u8| matches!(b, b'-' | b'.' | b'/');
    let before = match start.checked_sub(1).map(|i| line[i]) {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(b) if joins(b) => !(start >= 2 && line[start - 2].is_ascii_digit()),
        Some(_) => true,
    };
    let after = match line.get(end) {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(&b) if joins(b) => !line.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => true,
    };
    before && after
}

#[cfg(test)]
mod tests {
    use super::*;

    // Identifiers in this crate's tests are split into parts, so that its files pass
    // their own pre-commit hook.
    fn joined(parts: &[&str]) -> String {
        parts.concat()
    }

    /// The kinds found on the line the parts make up; the detectors' tests use it too.
    pub(crate) fn kinds(parts: &[&str]) -> Vec<Kind> {
        scan_line(joined(parts).as_bytes())
    }

    #[test]
    fn each_kind_is_reported_with_its_line() {
        let text = joined(&[
            "synthetic header\n",
            "ssn 123-45-",
            "6789\n",
            "ahv 756.9217.",
            "0769.85 and kvnr A12345",
            "6780\n",
        ]);
        let findings = scan_file("notes.md", text.as_bytes());
        let found: Vec<(usize, Kind)> = findings.iter().map(|f| (f.line, f.kind)).collect();
        assert_eq!(
            found,
            [(2, Kind::UsSsn), (3, Kind::SwissAhv), (3, Kind::GermanKvnr)]
        );
    }

    #[test]
    fn report_names_the_place_but_never_repeats_the_number() {
        let number = joined(&["756.9217.", "0769.85"]);
        let findings = scan_file("src/seed.rs", format!("let n = \"{number}\";").as_bytes());
        let report = findings[0].to_string();
        assert_eq!(
            report,
            "src/seed.rs:1: looks like a real Swiss AHV number; use synthetic data (fixtures/synthetic/) instead"
        );
        assert!(!report.contains(&number));
    }

    #[test]
    fn synthetic_fixtures_are_allowed() {
        let text = joined(&["756.9217.", "0769.85"]);
        assert!(scan_file("fixtures/synthetic/patients.csv", text.as_bytes()).is_empty());
        assert!(!scan_file("fixtures/patients.csv", text.as_bytes()).is_empty());
        assert!(!scan_file("other/fixtures/synthetic/patients.csv", text.as_bytes()).is_empty());
        // medforge's copy of the project as generated holds the same synthetic fixtures.
        let base_copy = ".medforge/base/fixtures/synthetic/patients.csv";
        assert!(scan_file(base_copy, text.as_bytes()).is_empty());
        assert!(!scan_file(".medforge/base/src/seed.rs", text.as_bytes()).is_empty());
    }

    #[test]
    fn binary_files_are_skipped() {
        let mut content = joined(&["756.9217.", "0769.85"]).into_bytes();
        content.push(0);
        assert!(scan_file("image.bin", &content).is_empty());
    }

    #[test]
    fn numbers_glued_to_longer_tokens_are_not_identifiers() {
        for text in [
            joined(&["1123-45-", "6789"]),
            joined(&["123-45-", "67890"]),
            joined(&["9-123-45-", "6789"]),
            joined(&["x756.9217.", "0769.85"]),
            joined(&["756.9217.", "0769.85.3"]),
            joined(&["ZA12345", "6780"]),
        ] {
            assert!(scan_line(text.as_bytes()).is_empty(), "{text}");
        }
    }
}
