//! `medforge check`: verifies that a generated project still has its controls (SPEC §6).
//!
//! Each check has a stable id (a SARIF rule), and each finding names the file (and line
//! where there is one) and says what to do. What the project should contain is taken from
//! medforge itself, never re-typed here: a fresh render of the recorded answers is the
//! reference for the deny-lists and the vendored guardrails, the guardrails' clippy bans
//! say which extractors and macros are banned, and the generated project's own phi-scan
//! detectors find real-looking identifiers.

mod conflicts;
mod leaks;
mod recorded_migrations;
mod source;
mod vendors;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::answers::{Answers, Origin, Value};
use crate::error::{Error, Result};
use crate::fs::{self, list_files_under, read_optional_text};
use crate::options;
use crate::record::{self, Record};
use crate::render::{self, GUARDRAILS_DIR};
use crate::schema::Schema;
use crate::template::{self, TemplateSource};

/// Everything `medforge check` needs.
#[derive(Debug, Clone, Default)]
pub struct CheckArgs {
    /// The project; defaults to the current directory.
    pub dir: Option<PathBuf>,
}

/// The check ids, stable: CI configurations and SARIF viewers refer to them.
pub mod rule {
    pub const GUARDRAILS_INTACT: &str = "guardrails-intact";
    pub const CLIPPY_BANS: &str = "clippy-bans";
    pub const RLS_FORCED: &str = "rls-forced";
    pub const PHI_ENCRYPTED: &str = "phi-encrypted";
    pub const NO_BYPASSRLS: &str = "no-bypassrls";
    pub const SERVICE_ROLE_OWNS_NOTHING: &str = "service-role-owns-nothing";
    pub const AI_DENY_LISTS: &str = "ai-deny-lists";
    pub const SESSION_TIMEOUTS: &str = "session-timeouts";
    pub const TLS_SETTING: &str = "tls-setting";
    pub const NO_RAW_EXTRACTORS: &str = "no-raw-extractors";
    pub const NO_BANNED_MACROS: &str = "no-banned-macros";
    pub const NO_LINT_BYPASS: &str = "no-lint-bypass";
    pub const SOURCES_PARSE: &str = "sources-parse";
    pub const SYNTHETIC_FIXTURES: &str = "synthetic-fixtures";
    pub const VENDOR_AGREEMENTS: &str = "vendor-agreements";
    pub const VENDOR_REGION: &str = "vendor-region";
    pub const EGRESS_ONLY: &str = "egress-only";
}

/// One check: its id, what it verifies, and why it matters.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub help: &'static str,
}

/// Every check, in the order they are reported.
pub const RULES: &[Rule] = &[
    Rule {
        id: rule::GUARDRAILS_INTACT,
        title: "The vendored PHI guardrails are unchanged",
        help: "guardrails/ must equal what medforge vendored: a weakened guardrail lets PHI \
               reach logs and URLs. Change them by updating medforge, never by hand.",
    },
    Rule {
        id: rule::CLIPPY_BANS,
        title: "clippy.toml bans the raw extractors and printing macros",
        help: "The guardrails' bans (guardrails/clippy-bans.toml) make every use of a raw \
               extractor or printing macro a build failure under `clippy -D warnings`.",
    },
    Rule {
        id: rule::RLS_FORCED,
        title: "Row-level security is enabled and forced on every table holding PHI",
        help: "SPEC 4.2.2, HIPAA 164.312(a)(1): a table with a `PHI:` column comment or a \
               tenant column needs ENABLE and FORCE ROW LEVEL SECURITY, never undone later.",
    },
    Rule {
        id: rule::PHI_ENCRYPTED,
        title: "Every PHI column holds ciphertext, or says why it cannot",
        help: "SPEC 4.2.3, HIPAA 164.312(a)(2)(iv): a `PHI:` column is `bytea` sealed by the \
               service (src/crypto/), so a dump or a superuser sees no plaintext. A column \
               that must stay plaintext (e.g. a time lists are ordered by) says why in its \
               comment: `PHI: what it holds; plaintext: why`.",
    },
    Rule {
        id: rule::NO_BYPASSRLS,
        title: "No role is given BYPASSRLS or SUPERUSER",
        help: "Either attribute ignores row-level security: one query then reads every clinic.",
    },
    Rule {
        id: rule::SERVICE_ROLE_OWNS_NOTHING,
        title: "The service role owns nothing",
        help: "An owner can alter policies and disable row-level security. Migrations run as \
               the owner role; the service role (`*_service`) is only granted privileges.",
    },
    Rule {
        id: rule::AI_DENY_LISTS,
        title: "AI deny-lists and agent rules are present and complete for every selected tool",
        help: "SPEC 4.3: each selected AI tool's files hold every entry of the one deny-list \
               (ai-deny-list.rhai). Adding entries is fine; removing one is not.",
    },
    Rule {
        id: rule::SESSION_TIMEOUTS,
        title: "Session timeouts are within bounds and match the answers",
        help: "HIPAA 164.312(a)(2)(iii): src/config.rs SESSION_IDLE_MINUTES and \
               SESSION_ABSOLUTE_HOURS equal the recorded answers (1-60 minutes, 1-24 hours). \
               Change them with `medforge update --set`.",
    },
    Rule {
        id: rule::TLS_SETTING,
        title: "The TLS setting matches the answer",
        help: "HIPAA 164.312(e)(1): src/config.rs TLS_TERMINATION equals the recorded `tls` \
               answer. Change it with `medforge update --set tls=...`.",
    },
    Rule {
        id: rule::NO_RAW_EXTRACTORS,
        title: "No raw axum Path or Query extractors in src/",
        help: "Raw extractors accept any type, PHI included, from the URL: use \
               phi_guard::SafePath and SafeQuery, which only accept UrlSafe types.",
    },
    Rule {
        id: rule::NO_BANNED_MACROS,
        title: "No println!, eprintln!, print!, eprint! or dbg! in src/",
        help: "They write outside the structured, PHI-free logs. Test code may use them.",
    },
    Rule {
        id: rule::NO_LINT_BYPASS,
        title: "No allow or expect of the guardrail lints in src/",
        help: "#[allow(clippy::disallowed_types)] and friends switch the bans off; only the \
               vendored guardrails may wrap the raw extractors.",
    },
    leaks::RULE,
    Rule {
        id: rule::SOURCES_PARSE,
        title: "Every Rust file in src/ parses, so it can be checked",
        help: "A file medforge cannot parse cannot be verified.",
    },
    Rule {
        id: rule::SYNTHETIC_FIXTURES,
        title: "No real-looking identifiers in fixtures/ outside fixtures/synthetic/",
        help: "SPEC 4.2.8: test data is synthetic. SSN, AHV and KVNR numbers with a valid \
               check digit belong only in fixtures/synthetic/.",
    },
    Rule {
        id: rule::EGRESS_ONLY,
        title: "HTTP clients are used only by the egress client",
        help: "SPEC 4.2.9: PHI leaves only through src/egress/, which sends to the vendors \
               of compliance/vendors.toml with a signed agreement and an allowed region, and \
               audits every attempt. reqwest, hyper's client and the like elsewhere in src/ \
               would bypass it.",
    },
    Rule {
        id: rule::VENDOR_AGREEMENTS,
        title: "Every vendor in compliance/vendors.toml has a signed BAA/DPA",
        help: "SPEC 4.2.9: PHI goes only to vendors with a signed agreement for the regime: a \
               BAA for HIPAA, a DPA for the GDPR and the nDSG.",
    },
    Rule {
        id: rule::VENDOR_REGION,
        title: "Every vendor processes data in a region allowed by data_residency",
        help: "A vendor's region must be the data_residency region or a sub-region of it.",
    },
    conflicts::RULE,
    recorded_migrations::RULE,
];

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

    let answers = checked_answers(&record, &mut findings)?;
    let template = TemplateSource::Embedded.open()?;
    let scratch = fs::scratch_dir("medforge-check-")?;
    let reference = render::project(&template, &record.project_name, &answers, scratch.path())?;

    // The guardrails this medforge vendors, or those the project's own medforge vendored.
    let same_generator = record.generator_version == env!("CARGO_PKG_VERSION");
    let guardrails_reference = if same_generator {
        Some(reference.clone())
    } else {
        Some(record::base_dir(&project)).filter(|base| base.is_dir())
    };
    match guardrails_reference {
        Some(reference) => findings.extend(guardrails(&project, &reference, &record)?),
        None => findings.push(Finding::in_file(
            rule::GUARDRAILS_INTACT,
            GUARDRAILS_DIR,
            format!(
                "cannot be verified: the project comes from medforge {} (this is {}) and has \
                 no .medforge/base/; run `medforge update` to bring it to this version",
                record.generator_version,
                env!("CARGO_PKG_VERSION")
            ),
        )),
    }
    findings.extend(clippy_bans(&project)?);
    findings.extend(database(&project)?);
    let conditions = std::fs::read_to_string(template.dir().join("cargo-generate.toml")).map_err(
        Error::io("cannot read", template.dir().join("cargo-generate.toml")),
    )?;
    findings.extend(deny_lists(&project, &reference, &conditions)?);
    findings.extend(config(&project, &answers)?);
    findings.extend(sources(&project)?);
    findings.extend(fixtures(&project)?);
    findings.extend(conflicts::check(&project)?);
    findings.extend(recorded_migrations::check(&project)?);
    let vendors_text = read_optional_text(&project.join(vendors::VENDORS_FILE))?;
    findings.extend(vendors::check(
        vendors_text.as_deref(),
        &answer_text(&answers, "regime"),
        &answer_text(&answers, "data_residency"),
    ));

    let order = |rule: &str| {
        RULES
            .iter()
            .position(|r| r.id == rule)
            .unwrap_or(usize::MAX)
    };
    findings
        .sort_by(|a, b| (order(a.rule), &a.file, a.line).cmp(&(order(b.rule), &b.file, b.line)));
    findings.dedup();
    let checks = RULES
        .iter()
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

const TIMEOUTS: &[(&str, &str)] = &[
    ("session_idle_minutes", "SESSION_IDLE_MINUTES"),
    ("session_absolute_hours", "SESSION_ABSOLUTE_HOURS"),
];

/// The recorded answers. A timeout out of range is a finding (the rest of the checks
/// still run, with the default in its place); any other bad answer stops the check.
fn checked_answers(record: &Record, findings: &mut Vec<Finding>) -> Result<Answers> {
    let mut raw = record.raw_answers.clone();
    let record_file = format!("{}/{}", record::RECORD_DIR, record::RECORD_FILE);
    let text = std::fs::read_to_string(&record.path).unwrap_or_default();
    for (key, _) in TIMEOUTS {
        let spec = options::find(key).expect("timeouts are options");
        if let Some(value) = raw.get(*key)
            && let Err(e) = Value::from_toml(spec, value, Origin::File(Path::new(&record_file)))
        {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1);
            findings.push(Finding::at(
                rule::SESSION_TIMEOUTS,
                &record_file,
                line,
                format!("{e}; record a value in range with `medforge update --set {key}=N`"),
            ));
            raw.remove(*key);
        }
    }
    let mut answers = Answers::from_table(&raw, Origin::File(&record.path))?;
    answers.fill_defaults();
    Ok(answers)
}

fn answer_text(answers: &Answers, key: &str) -> String {
    answers
        .get(key)
        .map(Value::to_flag_text)
        .unwrap_or_default()
}

fn guardrails(project: &Path, reference: &Path, record: &Record) -> Result<Vec<Finding>> {
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
                rule::GUARDRAILS_INTACT,
                file,
                format!("is missing; {}", restore(file)),
            )),
            Err(e) => return Err(Error::io("cannot read", project.join(file))(e)),
            Ok(have) if have != want => {
                let line = first_difference(&want, &have);
                findings.push(Finding::at(
                    rule::GUARDRAILS_INTACT,
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
                rule::GUARDRAILS_INTACT,
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

fn clippy_bans(project: &Path) -> Result<Vec<Finding>> {
    let bans = source::Bans::from_clippy_toml(template::guardrail_clippy_bans());
    let Some(text) = read_optional_text(&project.join("clippy.toml"))? else {
        return Ok(vec![Finding::in_file(
            rule::CLIPPY_BANS,
            "clippy.toml",
            "is missing, so nothing bans the raw extractors and printing macros; restore it \
             from .medforge/base/clippy.toml"
                .to_owned(),
        )]);
    };
    let have = source::Bans::from_clippy_toml(&text);
    let missing: Vec<&String> = bans
        .paths()
        .filter(|path| !have.paths().any(|p| p == *path))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let list = missing
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(vec![Finding::in_file(
        rule::CLIPPY_BANS,
        "clippy.toml",
        format!(
            "no longer bans {list}; restore the guardrail bans (guardrails/clippy-bans.toml, \
             appended to .medforge/base/clippy.toml)"
        ),
    )])
}

/// Whether a `PHI:` comment says why its column stays plaintext (`...; plaintext: why`).
fn declares_plaintext(description: &str) -> bool {
    description.split(';').skip(1).any(|part| {
        part.trim_start()
            .to_ascii_lowercase()
            .starts_with("plaintext:")
    })
}

fn database(project: &Path) -> Result<Vec<Finding>> {
    let schema = Schema::read(project)?;
    let mut findings = Vec::new();
    for table in schema.phi_tables() {
        let why = if table.phi.is_empty() {
            format!(
                "holds clinic data (`{}`)",
                table.tenant_column().map_or("tenant", |c| c.name.as_str())
            )
        } else {
            "has PHI columns".to_owned()
        };
        let name = &table.name;
        for (setting, word, statement, consequence) in [
            (
                &table.rls_enabled,
                "enabled",
                "ENABLE",
                "so its rows are not filtered by clinic",
            ),
            (
                &table.rls_forced,
                "forced",
                "FORCE",
                "so its owner bypasses the policies",
            ),
        ] {
            let fix = format!(
                "add `ALTER TABLE {name} {statement} ROW LEVEL SECURITY;` in a new migration"
            );
            match setting {
                Some(s) if s.on => {}
                Some(s) => findings.push(Finding::at(
                    rule::RLS_FORCED,
                    &s.location.file,
                    s.location.line,
                    format!(
                        "table `{name}` {why}, and row-level security is no longer {word} here, \
                         {consequence}; {fix}"
                    ),
                )),
                None => findings.push(Finding::at(
                    rule::RLS_FORCED,
                    &table.location.file,
                    table.location.line,
                    format!(
                        "table `{name}` {why} but row-level security is not {word}, \
                         {consequence}; {fix}"
                    ),
                )),
            }
        }
    }
    for table in &schema.tables {
        for phi in &table.phi {
            let Some(column) = table.column(&phi.column) else {
                continue;
            };
            if column.sql_type == "bytea" || declares_plaintext(&phi.description) {
                continue;
            }
            findings.push(Finding::at(
                rule::PHI_ENCRYPTED,
                &phi.location.file,
                phi.location.line,
                format!(
                    "`{}.{}` is PHI stored as `{}`, in plaintext for anyone who reads the table \
                     or a dump; store it as `bytea` sealed by the service (src/crypto/), or say \
                     why it must stay plaintext in its comment (`PHI: {}; plaintext: why`)",
                    table.name, phi.column, column.sql_type, phi.description
                ),
            ));
        }
    }
    let weakened = [
        (
            &schema.bypass,
            rule::NO_BYPASSRLS,
            "gives a role BYPASSRLS or SUPERUSER, which ignores row-level security; remove it \
             (both the owner and the service role are NOBYPASSRLS NOSUPERUSER)",
        ),
        (
            &schema.service_ownership,
            rule::SERVICE_ROLE_OWNS_NOTHING,
            "makes the service role an owner, and an owner can change policies and disable \
             row-level security; let the owner role own objects and GRANT the service only \
             what it needs",
        ),
    ];
    for (grants, rule, consequence) in weakened {
        for grant in grants {
            findings.push(Finding::at(
                rule,
                &grant.location.file,
                grant.location.line,
                format!("`{}` {consequence}", shorten(&grant.what)),
            ));
        }
    }
    Ok(findings)
}

fn shorten(sql: &str) -> String {
    const MAX: usize = 120;
    match sql.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &sql[..at]),
        None => sql.to_owned(),
    }
}

/// Files generated for AI tools, from the template's conditional sections: each entry
/// (file or folder) with the tool it belongs to.
fn ai_tool_files(cargo_generate_toml: &str) -> Vec<(String, String)> {
    let config: toml::Table = cargo_generate_toml.parse().unwrap_or_default();
    let Some(conditional) = config.get("conditional").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for (condition, section) in conditional {
        if !condition.contains("ai_tools") {
            continue;
        }
        let tool = condition
            .split('"')
            .nth(1)
            .map_or_else(|| "every AI tool".to_owned(), str::to_owned);
        for entry in section
            .get("ignore")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
        {
            files.push((entry.trim_end_matches('/').to_owned(), tool.clone()));
        }
    }
    files
}

fn deny_lists(project: &Path, reference: &Path, conditions: &str) -> Result<Vec<Finding>> {
    let tools = ai_tool_files(conditions);
    let mut findings = Vec::new();
    for file in record::generated_files(reference)? {
        let Some((_, tool)) = tools
            .iter()
            .find(|(entry, _)| file == *entry || file.starts_with(&format!("{entry}/")))
        else {
            continue;
        };
        let want = std::fs::read_to_string(reference.join(&file))
            .map_err(Error::io("cannot read", reference.join(&file)))?;
        let Some(have) = read_optional_text(&project.join(&file))? else {
            findings.push(Finding::in_file(
                rule::AI_DENY_LISTS,
                &file,
                format!(
                    "is missing, so {tool} is not kept away from secrets and real data; restore \
                     it from .medforge/base/{file}, or drop {tool} from ai_tools with \
                     `medforge update --set ai_tools=...`"
                ),
            ));
            continue;
        };
        // Line by line, so any format works; a trailing comma may come and go as entries
        // are added to a JSON list.
        let normalize = |line: &str| line.trim().trim_end_matches(',').to_owned();
        let present: std::collections::HashSet<String> = have.lines().map(normalize).collect();
        let missing: Vec<String> = want
            .lines()
            .map(normalize)
            .filter(|line| !line.is_empty() && !present.contains(line))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(5).map(|l| format!("`{l}`")).collect();
            let more = if missing.len() > 5 {
                format!(" and {} more", missing.len() - 5)
            } else {
                String::new()
            };
            findings.push(Finding::in_file(
                rule::AI_DENY_LISTS,
                &file,
                format!(
                    "lacks {} line(s) medforge generated for {tool}: {}{more}; put them back \
                     (adding entries is fine, removing them is not; the generated file is \
                     .medforge/base/{file})",
                    missing.len(),
                    shown.join(", ")
                ),
            ));
        }
    }
    Ok(findings)
}

const CONFIG_FILE: &str = "src/config.rs";

fn config(project: &Path, answers: &Answers) -> Result<Vec<Finding>> {
    let Some(text) = read_optional_text(&project.join(CONFIG_FILE))? else {
        return Ok(vec![Finding::in_file(
            rule::SESSION_TIMEOUTS,
            CONFIG_FILE,
            "is missing, so the session timeouts and TLS setting are not enforced; restore it \
             from .medforge/base/src/config.rs"
                .to_owned(),
        )]);
    };
    let mut findings = Vec::new();
    let mut expect = |rule: &'static str, name: &str, key: &str, want: source::ConstValue| {
        let shown = |value: &source::ConstValue| match value {
            source::ConstValue::Int(n) => n.to_string(),
            source::ConstValue::Variant(v) => v.to_lowercase(),
            source::ConstValue::Other(text) => text.clone(),
        };
        let answer = shown(&want);
        match source::constant(&text, name) {
            None => findings.push(Finding::in_file(
                rule,
                CONFIG_FILE,
                format!(
                    "has no `const {name}`; put it back with the recorded answer ({key} = \
                     {answer}), or restore the file from .medforge/base/{CONFIG_FILE}"
                ),
            )),
            Some(constant) if shown(&constant.value) != answer => findings.push(Finding::at(
                rule,
                CONFIG_FILE,
                constant.line,
                format!(
                    "`{name}` is {}, but the recorded answer is {key} = {answer}; change the \
                     answer with `medforge update --set {key}=...` rather than the constant",
                    shown(&constant.value)
                ),
            )),
            Some(_) => {}
        }
    };
    for (key, name) in TIMEOUTS {
        if let Some(Value::Int(n)) = answers.get(key) {
            expect(
                rule::SESSION_TIMEOUTS,
                name,
                key,
                source::ConstValue::Int(u64::from(*n)),
            );
        }
    }
    expect(
        rule::TLS_SETTING,
        "TLS_TERMINATION",
        "tls",
        source::ConstValue::Variant(answer_text(answers, "tls")),
    );
    Ok(findings)
}

fn sources(project: &Path) -> Result<Vec<Finding>> {
    let bans = source::Bans::from_clippy_toml(template::guardrail_clippy_bans());
    let mut findings = Vec::new();
    for file in list_files_under(project, "src")? {
        if !file.ends_with(".rs") {
            continue;
        }
        let Some(text) = read_optional_text(&project.join(&file))? else {
            continue;
        };
        findings.extend(source::scan(&file, &text, &bans));
    }
    Ok(findings)
}

fn fixtures(project: &Path) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for file in list_files_under(project, "fixtures")? {
        let content = std::fs::read(project.join(&file))
            .map_err(Error::io("cannot read", project.join(&file)))?;
        // The generated pre-commit hook's own detectors; synthetic fixtures are skipped.
        for found in phi_scan::scan_file(&file, &content) {
            findings.push(Finding::at(
                rule::SYNTHETIC_FIXTURES,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_every_rule_constant_is_listed() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }

    #[test]
    fn ai_tool_files_come_from_the_template_conditions() {
        let config = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/service/cargo-generate.toml"
        ))
        .unwrap();
        let files = ai_tool_files(&config);
        assert!(files.contains(&(".cursorignore".to_owned(), "cursor".to_owned())));
        assert!(files.contains(&(".zed".to_owned(), "zed".to_owned())));
        assert!(files.contains(&("AGENTS.md".to_owned(), "every AI tool".to_owned())));
    }

    #[test]
    fn first_difference_is_a_line_number() {
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nb\nx\n"), 3);
        assert_eq!(first_difference(b"a\n", b"b\n"), 1);
    }
}
