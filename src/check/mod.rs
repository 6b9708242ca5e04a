//! `medforge check`: verifies that a generated project still has its controls (SPEC §6).
//!
//! Each check has a stable id (a SARIF rule), and each finding names the file (and line
//! where there is one) and says what to do. What the project should contain is taken from
//! medforge itself, never re-typed here: a fresh render of the recorded answers is the
//! reference for the deny-lists and the vendored guardrails, the guardrails' clippy bans
//! say which extractors and macros are banned, and the generated project's own phi-scan
//! detectors find real-looking identifiers.
//!
//! This module is the runner: the finding and report types, and [`FAMILIES`], the
//! registry. Each rule family is one file that declares its rules and checks them, so a
//! new rule is a new file and one line in the registry.

mod clippy_bans;
mod config;
mod conflicts;
mod database;
mod deny_lists;
mod egress;
mod fixtures;
mod guardrails;
mod leaks;
mod recorded_migrations;
mod source;
mod vendors;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::fs;
use crate::policy::Policy;
use crate::record::{self, Record};
use crate::render;
use crate::template::TemplateSource;

/// Everything `medforge check` needs.
#[derive(Debug, Clone, Default)]
pub struct CheckArgs {
    /// The project; defaults to the current directory.
    pub dir: Option<PathBuf>,
}

/// One check: its id, what it verifies, and why it matters.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub help: &'static str,
}

/// Rules that one file of this module checks, and the function that checks them.
pub struct Family {
    /// In the order they are reported.
    pub rules: &'static [Rule],
    pub check: fn(&Context) -> Result<Vec<Finding>>,
}

/// Every rule family, in the order their rules are reported.
pub const FAMILIES: &[Family] = &[
    guardrails::FAMILY,
    clippy_bans::FAMILY,
    database::FAMILY,
    deny_lists::FAMILY,
    config::FAMILY,
    source::FAMILY,
    fixtures::FAMILY,
    egress::FAMILY,
    vendors::FAMILY,
    conflicts::FAMILY,
    recorded_migrations::FAMILY,
];

/// Every check, in the order they are reported.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    FAMILIES.iter().flat_map(|family| family.rules)
}

/// What every rule family may read.
pub struct Context<'a> {
    /// The project being checked.
    pub project: &'a Path,
    pub record: &'a Record,
    /// The recorded answers (a timeout out of range reads as its default).
    pub policy: &'a Policy,
    /// A fresh render of the recorded answers by this medforge: what the project should
    /// hold.
    pub reference: &'a Path,
    /// The project's Rust sources, read and parsed once for every family that reads them.
    sources: OnceCell<Vec<source::SourceFile>>,
}

impl Context<'_> {
    /// The Rust files of the project's `src/`, parsed.
    pub fn sources(&self) -> Result<&[source::SourceFile]> {
        if let Some(sources) = self.sources.get() {
            return Ok(sources);
        }
        let sources = source::read_sources(self.project)?;
        Ok(self.sources.get_or_init(|| sources))
    }
}

/// Something a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's id.
    pub rule: &'static str,
    /// What is wrong and what to do, one sentence.
    pub message: String,
    /// Relative to the project, `/`-separated.
    pub file: String,
    /// 1-based, where the finding has a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Finding {
    pub fn at(rule: &'static str, file: &str, line: usize, message: String) -> Finding {
        Finding {
            rule,
            message,
            file: file.to_owned(),
            line: Some(line),
        }
    }

    pub fn in_file(rule: &'static str, file: &str, message: String) -> Finding {
        Finding {
            rule,
            message,
            file: file.to_owned(),
            line: None,
        }
    }

    /// `file:line: message`.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

/// One check's outcome, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub passed: bool,
    pub findings: usize,
}

/// What `medforge check` found, for the human report, `--json` and `--sarif`.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub path: PathBuf,
    /// The versions the project was generated (or last updated) with.
    pub generator_version: String,
    pub template_version: String,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The human report: failing checks with their findings, passing checks one line each,
    /// and a summary line.
    pub fn human(&self) -> String {
        let mut out = format!("medforge check {}\n", self.path.display());
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for check in &self.checks {
            let verdict = if check.passed { "ok  " } else { "FAIL" };
            out.push_str(&format!(
                "  {verdict}  {:<width$}  {}\n",
                check.id, check.title
            ));
            if check.passed {
                continue;
            }
            for finding in self.findings.iter().filter(|f| f.rule == check.id) {
                out.push_str(&format!(
                    "          {}: {}\n",
                    finding.location(),
                    finding.message
                ));
            }
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        if failed == 0 {
            out.push_str(&format!(
                "All {} checks passed: the controls are in place.\n",
                self.checks.len()
            ));
        } else {
            out.push_str(&format!(
                "{} problem(s) in {failed} of {} checks.\n",
                self.findings.len(),
                self.checks.len()
            ));
        }
        out
    }
}

pub fn check(args: &CheckArgs) -> Result<CheckReport> {
    let project = record::project_dir(args.dir.as_deref())?;
    let record = Record::read(&project)?;
    let mut findings = Vec::new();

    let answers = config::recorded_answers(&record, &mut findings)?;
    let template = TemplateSource::Embedded.open()?;
    let scratch = fs::scratch_dir("medforge-check-")?;
    let reference = render::project(&template, &record.project_name, &answers, scratch.path())?;
    let ctx = Context {
        project: &project,
        record: &record,
        policy: &answers.policy(),
        reference: &reference,
        sources: OnceCell::new(),
    };
    for family in FAMILIES {
        findings.extend((family.check)(&ctx)?);
    }

    let order = |rule: &str| rules().position(|r| r.id == rule).unwrap_or(usize::MAX);
    findings
        .sort_by(|a, b| (order(a.rule), &a.file, a.line).cmp(&(order(b.rule), &b.file, b.line)));
    findings.dedup();
    let checks = rules()
        .map(|rule| {
            let count = findings.iter().filter(|f| f.rule == rule.id).count();
            CheckResult {
                id: rule.id,
                title: rule.title,
                passed: count == 0,
                findings: count,
            }
        })
        .collect();
    Ok(CheckReport {
        path: project,
        generator_version: record.generator_version,
        template_version: record.template_version,
        checks,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_every_rule_constant_is_listed() {
        let mut ids: Vec<_> = rules().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules().count());
    }
}
