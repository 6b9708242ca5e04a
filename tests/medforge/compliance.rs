//! The compliance docs of a generated project (SPEC 4.4): generated from the answers and
//! the schema, with links that resolve and deadlines that follow the regime.

use std::path::Path;

use crate::support::project::{edit, json, read, team_template, write};
use crate::support::{code, generate, medforge, stderr};

/// `(table, column)` of every `COMMENT ON COLUMN t.c IS 'PHI: ...'` in `migrations/`,
/// found the simple way: the statements the generated migrations write on one line.
fn phi_columns(project: &Path) -> Vec<(String, String)> {
    let mut columns = Vec::new();
    let Ok(entries) = std::fs::read_dir(project.join("migrations")) else {
        return columns;
    };
    for entry in entries.flatten() {
        for line in read(&entry.path()).lines() {
            let Some(rest) = line.trim().strip_prefix("COMMENT ON COLUMN ") else {
                continue;
            };
            let Some((target, comment)) = rest.split_once(" IS ") else {
                continue;
            };
            if comment.starts_with("'PHI:") {
                let (table, column) = target.rsplit_once('.').unwrap();
                columns.push((table.to_owned(), column.to_owned()));
            }
        }
    }
    columns
}

#[test]
fn the_phi_inventory_lists_every_phi_column_of_the_migrations() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &["data_residency=eu"]);
    let inventory = read(&project.join("compliance/phi-inventory.md"));
    let columns = phi_columns(&project);
    for (table, column) in &columns {
        let row = format!("| `{table}` | `{column}` |");
        let line = inventory
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("{row} missing from:\n{inventory}"));
        assert!(line.contains("region `eu`"), "{line}");
        assert!(line.contains("row-level security"), "{line}");
        assert!(line.contains("](../migrations/"), "{line}");
    }
    let rows = inventory.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, columns.len(), "{inventory}");
    if columns.is_empty() {
        assert!(inventory.contains("No migrations yet") || inventory.contains("mark no column"));
    }
    assert!(
        !inventory.contains("Filled in by `medforge new`"),
        "{inventory}"
    );
}

#[test]
fn without_migrations_the_inventory_says_so() {
    let work = tempfile::tempdir().unwrap();
    let team = team_template(work.path(), "team", "0.1.0");
    let _ = std::fs::remove_dir_all(team.join("migrations"));
    let output = medforge(
        work.path(),
        &["new", "clinic", "--yes", "--template", "team"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let inventory = read(&work.path().join("clinic/compliance/phi-inventory.md"));
    assert!(inventory.contains("No migrations yet"), "{inventory}");
}

#[test]
fn update_refreshes_the_inventory_from_the_projects_own_migrations() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    write(
        &project.join("migrations/0900_allergies.sql"),
        "CREATE TABLE allergies (id uuid, clinic_id uuid, substance bytea);\n\
         COMMENT ON COLUMN allergies.substance IS 'PHI: allergy substance';\n\
         ALTER TABLE allergies ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE allergies FORCE ROW LEVEL SECURITY;\n",
    );
    let output = medforge(
        &project,
        &["update", "--set", "session_idle_minutes=10", "--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    let inventory_change = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "compliance/phi-inventory.md");
    assert!(inventory_change.is_some(), "{report:#}");
    let inventory = read(&project.join("compliance/phi-inventory.md"));
    let row = inventory
        .lines()
        .find(|l| l.starts_with("| `allergies` | `substance` |"))
        .unwrap_or_else(|| panic!("{inventory}"));
    assert!(row.contains("allergy substance"), "{row}");
    assert!(row.contains("encrypted in the application"), "{row}");
    assert!(
        row.contains("row-level security enabled and forced"),
        "{row}"
    );
    // The base keeps the template's own inventory, so the next update merges cleanly.
    let base = read(&project.join(".medforge/base/compliance/phi-inventory.md"));
    assert!(!base.contains("allergies"), "{base}");
    let again = medforge(&project, &["update", "--json"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(json(&again)["files"], serde_json::json!([]));
}

/// Every relative link of `doc` (a file in `project/compliance/`) resolves, and every link
/// whose text is a backquoted name of a `.rs` file's test names a function in it.
fn assert_links_resolve(project: &Path, doc: &str) -> usize {
    let text = read(&project.join("compliance").join(doc));
    let mut links = 0;
    let mut rest = text.as_str();
    while let Some(open) = rest.find("](") {
        let label_start = rest[..open].rfind('[').unwrap();
        let label = &rest[label_start + 1..open];
        let after = &rest[open + 2..];
        let close = after.find(')').unwrap();
        let target = &after[..close];
        rest = &after[close..];
        if target.contains("://") || target.starts_with('#') {
            continue;
        }
        let path = target.split('#').next().unwrap();
        let resolved = project.join("compliance").join(path);
        assert!(resolved.is_file(), "{doc}: link {target} does not resolve");
        links += 1;
        let name = label.trim_matches('`');
        let is_function_name = label.starts_with('`')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_function_name && path.ends_with(".rs") {
            assert!(
                read(&resolved).contains(&format!("fn {name}(")),
                "{doc}: {path} has no fn {name}"
            );
        }
    }
    links
}

#[test]
fn every_control_links_to_code_and_a_test_that_exist() {
    let work = tempfile::tempdir().unwrap();
    for regime in ["all", "hipaa", "gdpr", "ndsg"] {
        let project = generate(work.path(), regime, &[&format!("regime={regime}")]);
        let links = assert_links_resolve(&project, "controls.md");
        assert!(links >= 6, "{regime}: only {links} links");
        let controls = read(&project.join("compliance/controls.md"));
        let sections = [
            ("hipaa", "45 CFR 164.312"),
            ("gdpr", "GDPR Art. 32"),
            ("ndsg", "nDSG Art. 8"),
        ];
        for (section_regime, heading) in sections {
            let shown = regime == "all" || regime == section_regime;
            assert_eq!(controls.contains(heading), shown, "{regime}: {heading}");
        }
        assert_links_resolve(&project, "phi-inventory.md");
    }
}

#[test]
fn incident_response_has_the_regimes_deadlines() {
    let work = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (
            "gdpr",
            &["72 hours", "Art. 33(1)", "high risk", "Art. 34"],
            &["60 calendar days", "FDPIC"],
        ),
        (
            "hipaa",
            &[
                "60 calendar days",
                "500 or more",
                "annually",
                "media",
                "164.404",
            ],
            &["72 hours", "FDPIC"],
        ),
        (
            "ndsg",
            &["FDPIC", "As soon as possible", "Art. 24"],
            &["72 hours", "HHS"],
        ),
        (
            "all",
            &[
                "72 hours",
                "60 calendar days",
                "FDPIC",
                "strictest one applies",
            ],
            &[],
        ),
    ];
    for (regime, present, absent) in cases {
        let project = generate(work.path(), regime, &[&format!("regime={regime}")]);
        let doc = read(&project.join("compliance/incident-response.md"));
        for text in present {
            assert!(doc.contains(text), "{regime}: no {text:?} in\n{doc}");
        }
        for text in absent {
            assert!(
                !doc.contains(text),
                "{regime}: {text:?} does not apply\n{doc}"
            );
        }
    }
}

#[test]
fn risk_analysis_and_vendors_follow_the_answers() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(
        work.path(),
        "clinic",
        &[
            "tenancy=multi",
            "tls=proxy",
            "ai_tools=claude,zed",
            "data_residency=eu-west",
        ],
    );
    let risks = read(&project.join("compliance/risk-analysis.md"));
    assert!(
        risks.contains("One clinic reads another clinic's patients"),
        "{risks}"
    );
    assert!(risks.contains("TLS terminated by a proxy"), "{risks}");
    assert!(risks.contains("Deny-lists for claude, zed"), "{risks}");
    assert!(!risks.contains("{{") && !risks.contains("{%"), "{risks}");

    let vendors = read(&project.join("compliance/vendors.toml"));
    let parsed: toml::Table = vendors.parse().expect("vendors.toml is valid TOML");
    assert!(
        parsed.get("vendor").is_none(),
        "no vendor is listed at first"
    );
    assert!(
        vendors.contains("data_residency = \"eu-west\""),
        "{vendors}"
    );
    // The commented example, once uncommented, passes `medforge check`.
    let example: String = vendors
        .lines()
        .skip_while(|l| !l.starts_with("# [[vendor]]"))
        .map(|l| format!("{}\n", l.trim_start_matches("# ")))
        .collect();
    assert!(example.starts_with("[[vendor]]"), "{example}");
    write(&project.join("compliance/vendors.toml"), &example);
    let output = medforge(&project, &["check"]);
    assert_eq!(code(&output), 0, "{}", crate::support::stdout(&output));
    edit(
        &project.join("compliance/vendors.toml"),
        "baa = ",
        "# baa = ",
    );
    assert_eq!(code(&medforge(&project, &["check"])), 4);
}
