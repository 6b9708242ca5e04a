//! Test data is synthetic: no real-looking identifier in `fixtures/` outside
//! `fixtures/synthetic/`, found by the generated pre-commit hook's own detectors.

use super::{Context, Family, Finding, Rule};
use crate::error::{Error, Result};
use crate::fs::list_files_under;

pub const SYNTHETIC_FIXTURES: Rule = Rule {
    id: "synthetic-fixtures",
    title: "No real-looking identifiers in fixtures/ outside fixtures/synthetic/",
    help: "HIPAA 164.308(a)(1)(ii)(B): test data is synthetic. SSN, AHV and KVNR numbers with a valid \
           check digit belong only in fixtures/synthetic/.",
};

pub const FAMILY: Family = Family {
    rules: &[SYNTHETIC_FIXTURES],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let project = ctx.project;
    let mut findings = Vec::new();
    for file in list_files_under(project, "fixtures")? {
        let content = std::fs::read(project.join(&file))
            .map_err(Error::io("cannot read", project.join(&file)))?;
        // The generated pre-commit hook's own detectors; synthetic fixtures are skipped.
        for found in phi_scan::scan_file(&file, &content) {
            findings.push(Finding::at(
                SYNTHETIC_FIXTURES.id,
                &file,
                found.line,
                format!(
                    "looks like a real {}; replace it with a synthetic value, or move test data \
                     that must look valid to {}",
                    found.kind,
                    phi_scan::SYNTHETIC_FIXTURES
                ),
            ));
        }
    }
    Ok(findings)
}
