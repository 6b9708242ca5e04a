//! The vendored guardrails: `guardrails/` must equal what medforge vendored, file for file.

use std::path::Path;

use super::{Context, Family, Finding, Rule};
use crate::error::{Error, Result};
use crate::fs::list_files_under;
use crate::record::{self, Record};
use crate::render::GUARDRAILS_DIR;

pub const GUARDRAILS_INTACT: Rule = Rule {
    id: "guardrails-intact",
    title: "The vendored PHI guardrails are unchanged",
    help: "guardrails/ must equal what medforge vendored: a weakened guardrail lets PHI \
           reach logs and URLs. Change them by updating medforge, never by hand.",
};

pub const FAMILY: Family = Family {
    rules: &[GUARDRAILS_INTACT],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let record = ctx.record;
    // The guardrails this medforge vendors, or those the project's own medforge vendored.
    let same_generator = record.generator_version == env!("CARGO_PKG_VERSION");
    let reference = if same_generator {
        Some(ctx.reference.to_owned())
    } else {
        Some(record::base_dir(ctx.project)).filter(|base| base.is_dir())
    };
    match reference {
        Some(reference) => compare(ctx.project, &reference, record),
        None => Ok(vec![Finding::in_file(
            GUARDRAILS_INTACT.id,
            GUARDRAILS_DIR,
            format!(
                "cannot be verified: the project comes from medforge {} (this is {}) and has \
                 no .medforge/base/; run `medforge update` to bring it to this version",
                record.generator_version,
                env!("CARGO_PKG_VERSION")
            ),
        )]),
    }
}

fn compare(project: &Path, reference: &Path, record: &Record) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let expected = list_files_under(reference, GUARDRAILS_DIR)?;
    let restore = |file: &str| {
        format!(
            "restore it from .medforge/base/{file} (guardrails change by updating medforge, \
             never by hand: a weakened guardrail lets PHI leak)"
        )
    };
    for file in &expected {
        let want = std::fs::read(reference.join(file))
            .map_err(Error::io("cannot read", reference.join(file)))?;
        match std::fs::read(project.join(file)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => findings.push(Finding::in_file(
                GUARDRAILS_INTACT.id,
                file,
                format!("is missing; {}", restore(file)),
            )),
            Err(e) => return Err(Error::io("cannot read", project.join(file))(e)),
            Ok(have) if have != want => {
                let line = first_difference(&want, &have);
                findings.push(Finding::at(
                    GUARDRAILS_INTACT.id,
                    file,
                    line,
                    format!(
                        "differs from the guardrails medforge {} vendored; {}",
                        record.generator_version,
                        restore(file)
                    ),
                ));
            }
            Ok(_) => {}
        }
    }
    for file in list_files_under(project, GUARDRAILS_DIR)? {
        let built = file.split('/').any(|part| part == "target");
        if !built && !expected.contains(&file) {
            findings.push(Finding::in_file(
                GUARDRAILS_INTACT.id,
                &file,
                "is not part of the vendored guardrails; remove it (guardrails change by \
                 updating medforge, never by hand)"
                    .to_owned(),
            ));
        }
    }
    Ok(findings)
}

/// The 1-based line where two contents first differ.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    a[..common].iter().filter(|&&c| c == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_is_a_line_number() {
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nb\nx\n"), 3);
        assert_eq!(first_difference(b"a\n", b"b\n"), 1);
    }
}
