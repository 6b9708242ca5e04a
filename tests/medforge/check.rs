//! `medforge check` end to end: a freshly generated project passes, and each control, once
//! broken in a real generated project, is reported by the real binary with exit 4.

use std::path::Path;

use crate::support::project::{append, edit, json, read, write};
use crate::support::{code, generate, medforge, stderr, stdout};
use serde_json::Value;

fn check(project: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    medforge(project, &all)
}

/// A checksum-valid Swiss AHV number, assembled so that this file holds none.
fn ahv_number() -> String {
    ["756.9217.", "0769.85"].concat()
}

/// Generates a project, breaks it with `breaks`, and asserts that `check --json` exits 4
/// with a finding of `rule` in `file` (at `line`, when given) and no finding of another
/// rule.
fn reported(set: &[&str], rule: &str, file: &str, line: Option<u64>, breaks: impl FnOnce(&Path)) {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", set);
    breaks(&project);
    let output = check(&project, &["--json"]);
    assert_eq!(
        code(&output),
        4,
        "{rule}: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    let report = json(&output);
    assert_eq!(report["status"], "violations");
    assert_eq!(report["exit_code"], 4);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["rule"] == rule),
        "{rule}: unexpected findings {findings:#?}"
    );
    let finding = findings
        .iter()
        .find(|f| f["file"] == file)
        .unwrap_or_else(|| panic!("{rule}: nothing reported in {file}: {findings:#?}"));
    if let Some(line) = line {
        assert_eq!(finding["line"], line, "{finding:#}");
    }
    assert!(
        finding["message"].as_str().unwrap().len() > 40,
        "{finding:#}"
    );
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["id"], rule);
}

#[test]
fn a_freshly_generated_project_passes() {
    let work = tempfile::tempdir().unwrap();
    for (name, set) in [
        ("default", &[][..]),
        (
            "other",
            &[
                "regime=hipaa",
                "tenancy=single",
                "tls=proxy",
                "session_idle_minutes=5",
                "session_absolute_hours=24",
                "ai_tools=none",
                "modules=patients",
                "data_residency=us",
                "ui=none",
            ][..],
        ),
    ] {
        let project = generate(work.path(), name, set);
        let output = check(&project, &[]);
        assert_eq!(code(&output), 0, "{name}: {}", stdout(&output));
        let text = stdout(&output);
        assert!(text.contains("checks passed"), "{text}");
        assert!(!text.contains("FAIL"), "{text}");

        let report = json(&check(&project, &["--json"]));
        assert_eq!(report["status"], "ok");
        assert_eq!(report["findings"], serde_json::json!([]));
        assert!(report["checks"].as_array().unwrap().len() >= 12);
    }
}

#[test]
fn an_edited_guardrail_is_reported() {
    reported(
        &[],
        "guardrails-intact",
        "guardrails/phi-guard/src/phi.rs",
        None,
        |p| {
            let file = p.join("guardrails/phi-guard/src/phi.rs");
            let text = read(&file).replacen("impl", "// weakened\nimpl", 1);
            write(&file, &text);
        },
    );
}

#[test]
fn a_removed_clippy_ban_is_reported() {
    reported(&[], "clippy-bans", "clippy.toml", None, |p| {
        let file = p.join("clippy.toml");
        let text: String = read(&file)
            .lines()
            .filter(|l| !l.contains("\"std::println\""))
            .map(|l| format!("{l}\n"))
            .collect();
        write(&file, &text);
    });
}

#[test]
fn a_phi_table_without_forced_rls_is_reported() {
    reported(
        &[],
        "rls-forced",
        "migrations/0900_lab_results.sql",
        Some(2),
        |p| {
            write(
                &p.join("migrations/0900_lab_results.sql"),
                "-- lab results\nCREATE TABLE lab_results (\n    id uuid PRIMARY KEY,\n    result bytea\n);\n\
             COMMENT ON COLUMN lab_results.result IS 'PHI: lab result';\n\
             ALTER TABLE lab_results ENABLE ROW LEVEL SECURITY;\n",
            );
        },
    );
}

#[test]
fn rls_switched_off_by_a_later_migration_is_reported() {
    reported(
        &[],
        "rls-forced",
        "migrations/0901_oops.sql",
        Some(2),
        |p| {
            write(
                &p.join("migrations/0901_oops.sql"),
                "-- speed up a report\nalter table patients   no force row level security;\n",
            );
        },
    );
    reported(
        &[],
        "rls-forced",
        "migrations/0901_oops.sql",
        Some(1),
        |p| {
            write(
                &p.join("migrations/0901_oops.sql"),
                "ALTER TABLE notes DISABLE ROW LEVEL SECURITY;\n",
            );
        },
    );
}

#[test]
fn a_tenant_table_without_rls_is_reported() {
    reported(
        &[],
        "rls-forced",
        "migrations/0902_tasks.sql",
        Some(1),
        |p| {
            write(
                &p.join("migrations/0902_tasks.sql"),
                "CREATE TABLE tasks (id uuid, tenant_id uuid NOT NULL, title text);\n",
            );
        },
    );
}

#[test]
fn bypassrls_is_reported() {
    reported(
        &[],
        "no-bypassrls",
        "migrations/0903_roles.sql",
        Some(1),
        |p| {
            write(
                &p.join("migrations/0903_roles.sql"),
                "ALTER ROLE clinic_service WITH BYPASSRLS;\n",
            );
        },
    );
}

#[test]
fn a_plaintext_phi_column_is_reported() {
    // A new PHI column in plaintext, and an encrypted one turned back into text.
    reported(
        &[],
        "phi-encrypted",
        "migrations/0905_ssn.sql",
        Some(3),
        |p| {
            write(
                &p.join("migrations/0905_ssn.sql"),
                "ALTER TABLE patients ADD COLUMN ssn text;\n\n\
                 COMMENT ON COLUMN patients.ssn IS 'PHI: social security number';\n",
            );
        },
    );
    reported(
        &[],
        "phi-encrypted",
        "migrations/0002_patients.sql",
        None,
        |p| {
            write(
                &p.join("migrations/0906_phone.sql"),
                "ALTER TABLE patients ALTER COLUMN phone TYPE text USING encode(phone, 'hex');\n",
            );
        },
    );
}

#[test]
fn a_phi_column_that_says_why_it_stays_plaintext_is_accepted() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    write(
        &project.join("migrations/0907_ward.sql"),
        "ALTER TABLE patients ADD COLUMN ward text;\n\
         COMMENT ON COLUMN patients.ward IS 'PHI: ward; plaintext: rounds are sorted by it';\n",
    );
    let output = check(&project, &["--json"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn an_http_client_outside_the_egress_client_is_reported() {
    reported(&[], "egress-only", "src/transcribe.rs", Some(2), |p| {
        write(
            &p.join("src/transcribe.rs"),
            "//! Sends recordings to a transcription service.\n\
             use reqwest::Client;\n",
        );
    });
}

#[test]
fn a_service_role_that_owns_something_is_reported() {
    reported(
        &[],
        "service-role-owns-nothing",
        "migrations/0904_owner.sql",
        Some(2),
        |p| {
            write(
                &p.join("migrations/0904_owner.sql"),
                "-- hand the table over\nALTER TABLE patients OWNER TO clinic_service;\n",
            );
        },
    );
}

#[test]
fn an_incomplete_deny_list_is_reported() {
    reported(&[], "ai-deny-lists", ".cursorignore", None, |p| {
        edit(&p.join(".cursorignore"), "*.pem\n", "");
    });
    reported(&[], "ai-deny-lists", ".claude/settings.json", None, |p| {
        edit(
            &p.join(".claude/settings.json"),
            "      \"Read(./**/*.dump)\",\n",
            "",
        );
    });
    reported(
        &["ai_tools=zed"],
        "ai-deny-lists",
        ".zed/settings.json",
        None,
        |p| {
            std::fs::remove_file(p.join(".zed/settings.json")).unwrap();
        },
    );
}

#[test]
fn added_deny_list_entries_are_fine() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    append(&project.join(".cursorignore"), "private-notes/");
    edit(
        &project.join(".claude/settings.json"),
        "\"Read(./**/*.dcm)\"",
        "\"Read(./**/*.dcm)\",\n      \"Read(./private-notes/**)\"",
    );
    let output = check(&project, &[]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn a_session_timeout_that_differs_from_the_answer_is_reported() {
    reported(&[], "session-timeouts", "src/policy.rs", None, |p| {
        edit(
            &p.join("src/policy.rs"),
            "SESSION_IDLE_MINUTES: u64 = 15;",
            "SESSION_IDLE_MINUTES: u64 = 45;",
        );
    });
    reported(
        &[],
        "session-timeouts",
        ".medforge/answers.toml",
        None,
        |p| {
            edit(
                &p.join(".medforge/answers.toml"),
                "session_absolute_hours = 8",
                "session_absolute_hours = 72",
            );
        },
    );
}

#[test]
fn a_tls_setting_that_differs_from_the_answer_is_reported() {
    reported(&["tls=proxy"], "tls-setting", "src/policy.rs", None, |p| {
        edit(
            &p.join("src/policy.rs"),
            "TlsTermination::Proxy;",
            "TlsTermination::Rustls;",
        );
    });
}

#[test]
fn a_ui_setting_that_differs_from_the_answer_is_reported() {
    reported(&[], "ui-setting", "src/policy.rs", None, |p| {
        edit(
            &p.join("src/policy.rs"),
            "Ui = Ui::Web;",
            "Ui = Ui::ApiOnly;",
        );
    });
    reported(&["ui=none"], "ui-setting", "src/policy.rs", None, |p| {
        edit(
            &p.join("src/policy.rs"),
            "Ui = Ui::ApiOnly;",
            "Ui = Ui::Web;",
        );
    });
}

#[test]
fn raw_extractors_in_src_are_reported() {
    reported(&[], "no-raw-extractors", "src/lookup.rs", Some(2), |p| {
        write(
            &p.join("src/lookup.rs"),
            "//! Lookup.\nuse axum::extract::Query;\n",
        );
    });
}

#[test]
fn an_aliased_raw_extractor_is_reported() {
    reported(&[], "no-raw-extractors", "src/lookup.rs", Some(3), |p| {
        write(
            &p.join("src/lookup.rs"),
            "//! Lookup.\nuse axum::extract as ex;\n\
             pub async fn lookup(ex::Path(id): ex::Path<u32>) -> String { id.to_string() }\n",
        );
    });
}

/// Generates a project, adds `file` with `source`, and returns the lines `check --json`
/// reports in it, asserting that every finding is of `rule`.
fn finding_lines(rule: &str, file: &str, source: &str) -> Vec<u64> {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    write(&project.join(file), source);
    let output = check(&project, &["--json"]);
    assert_eq!(code(&output), 4, "{}", stdout(&output));
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    for finding in findings {
        assert_eq!(finding["rule"], rule, "{finding:#}");
        assert_eq!(finding["file"], file, "{finding:#}");
        assert!(
            finding["message"].as_str().unwrap().len() > 60,
            "{finding:#}"
        );
    }
    findings
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect()
}

#[test]
fn phi_like_names_in_url_types_are_reported() {
    // A date of birth as numbers passes SafePath, SafeQuery and SafeUrl; its names do not.
    let lines = finding_lines(
        "phi-leak-patterns",
        "src/routes/by_birth.rs",
        "//! Lookup by date of birth.\n\
         use phi_guard::{SafePath, SafeQuery, SafeUrl, UrlSafe};\n\
         \n\
         #[derive(serde::Deserialize, UrlSafe)]\n\
         pub struct Born {\n    pub year: u16,\n    pub month: u8,\n    pub day: u8,\n}\n\
         \n\
         pub async fn by_dob(SafePath(dob): SafePath<u32>, SafeQuery(born): SafeQuery<Born>) -> String {\n\
         \x20   SafeUrl::new(\"/patients\").query(\"mrn\", dob).query(\"page\", born.day).into_string()\n\
         }\n",
    );
    // The date in parts; `dob` and `born` as parameters; the `mrn` key and `dob` value.
    assert_eq!(lines, [6, 11, 11, 12, 12]);
}

#[test]
fn raw_requests_and_body_bytes_in_logs_are_reported() {
    let lines = finding_lines(
        "phi-leak-patterns",
        "src/middleware/debug_log.rs",
        "//! Debug logging of what a client sent and what the service answered.\n\
         use axum::extract::Request;\n\
         use axum::http::{HeaderMap, Uri};\n\
         use axum::middleware::Next;\n\
         use axum::response::Response;\n\
         \n\
         pub async fn trace_everything(request: Request, next: Next) -> Response {\n\
         \x20   tracing::debug!(uri = %request.uri(), headers = ?request.headers(), \"request\");\n\
         \x20   let response = next.run(request).await;\n\
         \x20   let (parts, body) = response.into_parts();\n\
         \x20   let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();\n\
         \x20   tracing::debug!(?bytes, status = %parts.status, \"response\");\n\
         \x20   Response::from_parts(parts, axum::body::Body::from(bytes))\n\
         }\n\
         \n\
         pub fn on_reject(uri: &Uri, headers: &HeaderMap) {\n\
         \x20   tracing::warn!(\"rejected {uri} with {headers:?}\");\n\
         }\n",
    );
    assert_eq!(lines, [8, 8, 12, 17, 17]);
}

#[test]
fn printing_macros_in_src_are_reported_but_not_in_tests() {
    reported(&[], "no-banned-macros", "src/lib.rs", None, |p| {
        append(
            &p.join("src/lib.rs"),
            "\npub fn debug_patient(name: &str) {\n    println!(\"{name}\");\n}\n\n\
             #[cfg(test)]\nmod printing_in_tests_is_fine {\n    #[test]\n    fn t() {\n        \
             dbg!(1);\n    }\n}",
        );
    });
}

#[test]
fn allowing_a_guardrail_lint_is_reported() {
    reported(&[], "no-lint-bypass", "src/lib.rs", None, |p| {
        append(
            &p.join("src/lib.rs"),
            "\n#[allow(clippy::disallowed_types)]\npub fn sneaky() {}",
        );
    });
}

#[test]
fn a_real_looking_identifier_in_fixtures_is_reported() {
    let number = ahv_number();
    reported(
        &[],
        "synthetic-fixtures",
        "fixtures/real.csv",
        Some(2),
        |p| {
            write(
                &p.join("fixtures/real.csv"),
                &format!("name,ahv\nPatient A,{number}\n"),
            );
        },
    );
    // The same number under fixtures/synthetic/ is allowed.
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    write(
        &project.join("fixtures/synthetic/patients.csv"),
        &format!("name,ahv\nPatient A,{number}\n"),
    );
    let output = check(&project, &[]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn a_vendor_without_an_agreement_or_outside_the_region_is_reported() {
    reported(
        &["regime=hipaa"],
        "vendor-agreements",
        "compliance/vendors.toml",
        None,
        |p| {
            append(
                &p.join("compliance/vendors.toml"),
                "\n[[vendor]]\nname = \"Speech to Text Inc\"\nregion = \"ch\"\ndpa = 2025-01-31\n",
            );
        },
    );
    reported(
        &["regime=gdpr", "data_residency=eu"],
        "vendor-region",
        "compliance/vendors.toml",
        None,
        |p| {
            append(
                &p.join("compliance/vendors.toml"),
                "\n[[vendor]]\nname = \"Speech to Text Inc\"\nregion = \"us-east\"\ndpa = 2025-01-31\n",
            );
        },
    );
    // A signed vendor in a sub-region of data_residency passes.
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &["regime=gdpr", "data_residency=eu"]);
    append(
        &project.join("compliance/vendors.toml"),
        "\n[[vendor]]\nname = \"Speech to Text GmbH\"\nregion = \"eu-west\"\ndpa = 2025-01-31\n",
    );
    let output = check(&project, &[]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn human_output_groups_findings_and_ends_with_a_summary() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    append(
        &project.join("src/lib.rs"),
        "\npub fn a() { dbg!(1); }\npub fn b() { eprintln!(\"x\"); }",
    );
    let output = check(&project, &["--dir", project.to_str().unwrap()]);
    assert_eq!(code(&output), 4);
    let text = stdout(&output);
    let fail = text
        .lines()
        .position(|l| l.contains("FAIL  no-banned-macros"))
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[fail + 1].trim_start().starts_with("src/lib.rs:"),
        "{text}"
    );
    assert!(
        lines[fail + 2].trim_start().starts_with("src/lib.rs:"),
        "{text}"
    );
    assert!(
        lines.last().unwrap().contains("2 problem(s) in 1 of"),
        "{text}"
    );
}

#[test]
fn sarif_output_is_a_valid_sarif_2_1_0_log() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    append(&project.join("src/lib.rs"), "\npub fn a() { dbg!(1); }");
    edit(&project.join(".cursorignore"), "*.pem\n", "");
    let output = check(&project, &["--sarif"]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    let log = json(&output);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "medforge");
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for rule in rules {
        assert!(
            rule["shortDescription"]["text"].as_str().unwrap().len() > 10,
            "{rule}"
        );
    }
    let base_ids = runs[0]["originalUriBaseIds"].as_object().unwrap();
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:#?}");
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], rule_id);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let artifact = &location["artifactLocation"];
        let uri = artifact["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains("://"),
            "relative: {uri}"
        );
        assert!(project.join(uri).is_file(), "{uri}");
        let base = artifact["uriBaseId"].as_str().unwrap();
        assert!(
            base_ids[base]["uri"]
                .as_str()
                .unwrap()
                .starts_with("file:///")
        );
        if let Some(line) = location.get("region") {
            assert!(line["startLine"].as_u64().unwrap() >= 1);
        }
    }
    let macros = results
        .iter()
        .find(|r| r["ruleId"] == "no-banned-macros")
        .unwrap();
    assert_eq!(
        macros["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/lib.rs"
    );
    assert!(
        macros["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .is_some()
    );

    let clean = generate(work.path(), "clean", &[]);
    let output = check(&clean, &["--sarif"]);
    assert_eq!(code(&output), 0);
    assert_eq!(json(&output)["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn a_missing_record_is_exit_2_with_one_sentence() {
    let work = tempfile::tempdir().unwrap();
    let output = check(work.path(), &[]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("is not a medforge project"), "{message}");
    assert!(message.contains(".medforge/answers.toml"), "{message}");
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");

    let output = check(work.path(), &["--json"]);
    assert_eq!(code(&output), 2);
    assert_eq!(json(&output)["status"], "error");

    let output = check(work.path(), &["--json", "--sarif"]);
    assert_eq!(code(&output), 2, "--json and --sarif are exclusive");
}

#[test]
fn a_project_from_another_medforge_version_is_held_to_its_own_guardrails() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    // As if generated by an older medforge: its vendored guardrails are those in
    // .medforge/base, not this medforge's.
    let record = project.join(".medforge/answers.toml");
    edit(
        &record,
        &format!("generator_version = \"{}\"", env!("CARGO_PKG_VERSION")),
        "generator_version = \"0.0.1\"",
    );
    let old_guardrail = "// as vendored by medforge 0.0.1\n";
    for root in [project.clone(), project.join(".medforge/base")] {
        append(&root.join("guardrails/phi-guard/src/url.rs"), old_guardrail);
    }
    let output = check(&project, &[]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));

    append(
        &project.join("guardrails/phi-guard/src/url.rs"),
        "// weakened",
    );
    let report = json(&check(&project, &["--json"]));
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "guardrails-intact");
    assert_eq!(finding["file"], "guardrails/phi-guard/src/url.rs");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("medforge 0.0.1"),
        "{finding}"
    );

    std::fs::remove_dir_all(project.join(".medforge/base")).unwrap();
    let report = json(&check(&project, &["--json"]));
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be verified"),
        "{report:#}"
    );
}
