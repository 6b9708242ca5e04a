//! `medforge add resource` end to end, as medforge's CI runs it: a generated project gets a
//! resource that belongs to a patient and one that does not, each with its `.sqlx` data
//! refreshed on a throwaway cluster, and then passes its own CI (fmt, clippy `-D warnings`,
//! its tests, the new threat tests included, and `medforge check`) without a database of
//! its own, leaving the committed tree as it was.

use std::process::Command;
use std::time::Instant;

use super::generated_project::path_with_medforge;
use crate::support::project::{edit, git, json, snapshot, team_template};
use crate::support::{code, generate, generated_build, generated_target_dir, medforge, stderr};

/// `medforge add resource` in `project`, as CI runs it: the generated projects' shared
/// target directory, so the `.sqlx` refresh builds on the dependencies compiled already.
fn add(project: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let started = Instant::now();
    let output = Command::new(crate::support::BIN)
        .args(["add", "resource"])
        .args(args)
        .arg("--json")
        .current_dir(project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        .output()
        .expect("medforge runs");
    assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
    let document = json(&output);
    assert_eq!(document["query_data"], "refreshed", "{document}");
    eprintln!(
        "medforge add resource {}: {:.1} s ({})",
        args[0],
        started.elapsed().as_secs_f64(),
        document["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| format!("{} {}s", s["step"].as_str().unwrap(), s["seconds"]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    document
}

#[test]
fn a_project_with_two_added_resources_passes_its_own_ci() {
    let _one_at_a_time = generated_build();
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "medforge new"]);

    // `PRESCRIPTIONS` without its `add resource`.
    let prescriptions = add(&project, &crate::add::PRESCRIPTIONS[2..]);
    let new_queries = prescriptions["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with(".sqlx/"))
        .count();
    assert!(new_queries >= 6, "{prescriptions}");
    add(&project, &["rooms", "--field", "label:text"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "medforge add resource"]);

    let started = Instant::now();
    let status = Command::new("bash")
        .arg(".ci/run")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", generated_target_dir())
        .env("PATH", path_with_medforge())
        .env_remove("DATABASE_URL")
        .status()
        .expect("bash runs the generated .ci/run");
    eprintln!(
        "the project's .ci/run after both: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "the generated .ci/run failed after add resource"
    );
    let status = git(&project, &["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "building and testing changed the committed tree:\n{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

/// Atomic: when the refresh fails (here a team template's migration PostgreSQL refuses),
/// the project is exactly as it was, and the failure names the step.
#[test]
fn a_refresh_that_fails_leaves_the_project_as_it_was() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let team = team_template(work.path(), "team", "0.1.0");
    edit(
        &team.join("resource-templates/migration.sql.liquid"),
        "ALTER TABLE {{ resource.name }} ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE {{ resource.name }} ENABLE ROW LEVEL SECURITY AND MORE;",
    );
    let before = snapshot(&project);
    let output = medforge(
        &project,
        &[
            "add",
            "resource",
            "rooms",
            "--field",
            "label:text",
            "--template",
            team.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let error = json(&output)["error"].as_str().unwrap().to_owned();
    assert!(error.contains("apply the migrations"), "{error}");
    assert_eq!(snapshot(&project), before, "a failed add writes nothing");
}
