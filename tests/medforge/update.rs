//! `medforge update` end to end: the real binary merges a team's template changes (or a
//! changed answer) into a real generated project three ways, keeping local edits.

use std::path::Path;

use crate::support::project::{append, edit, git, json, read, snapshot, team_template, write};
use crate::support::{code, generate, medforge, stderr, stdout};

/// `medforge update` in `project` with `args`.
fn update(project: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["update"];
    all.extend_from_slice(args);
    medforge(project, &all)
}

/// The action `update --json` reported for `path`, if any.
fn action(report: &serde_json::Value, path: &str) -> Option<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .map(|f| f["action"].as_str().unwrap().to_owned())
}

#[test]
fn template_changes_reach_untouched_files_and_local_edits_survive() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let team = team_template(work.path(), "team", "0.2.0");
    // The team changes the end of the README and rustfmt.toml; the project changed the
    // README's first line and nothing else.
    append(
        &team.join("README.md"),
        "Team rule: every change is reviewed by two people.",
    );
    append(&team.join("rustfmt.toml"), "# team formatting note");
    edit(
        &project.join("README.md"),
        "# clinic",
        "# clinic (our fork)",
    );

    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "ok");
    assert_eq!(report["to"]["template_version"], "0.2.0");
    assert_eq!(action(&report, "README.md").as_deref(), Some("merged"));
    assert_eq!(action(&report, "rustfmt.toml").as_deref(), Some("updated"));

    let readme = read(&project.join("README.md"));
    assert!(readme.starts_with("# clinic (our fork)"), "{readme}");
    assert!(
        readme.contains("Team rule: every change is reviewed"),
        "{readme}"
    );
    assert!(read(&project.join("rustfmt.toml")).contains("# team formatting note"));

    // The record and the base now describe the new render.
    let record = read(&project.join(".medforge/answers.toml"));
    assert!(record.contains("template_version = \"0.2.0\""), "{record}");
    let base_readme = read(&project.join(".medforge/base/README.md"));
    assert!(base_readme.contains("Team rule"), "{base_readme}");
    assert!(!base_readme.contains("our fork"), "{base_readme}");

    // Nothing left to do the second time.
    let again = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(json(&again)["files"], serde_json::json!([]));
    assert!(
        stderr(&again).contains("Already up to date"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_fresh_project_is_already_up_to_date() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(
        work.path(),
        "clinic",
        &["tenancy=single", "ai_tools=claude"],
    );
    let before = snapshot(&project);
    let output = update(&project, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Already up to date"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        snapshot(&project),
        before,
        "an update with nothing new changed files"
    );
}

/// A project and a team template 0.3.0 in `work` that both changed the same line of
/// rustfmt.toml: updating from `../team` conflicts there.
fn conflicting(work: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let project = generate(work, "clinic", &[]);
    let team = team_template(work, "team", "0.3.0");
    edit(
        &team.join("rustfmt.toml"),
        "newline_style = \"Unix\"",
        "newline_style = \"Native\"",
    );
    edit(
        &project.join("rustfmt.toml"),
        "newline_style = \"Unix\"",
        "newline_style = \"Windows\"",
    );
    (project, team)
}

#[test]
fn both_sides_changing_the_same_lines_conflict_and_the_rest_still_merges() {
    let work = tempfile::tempdir().unwrap();
    let (project, team) = conflicting(work.path());
    append(&team.join("README.md"), "Team rule: review everything.");

    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "conflicts");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["conflicts"], serde_json::json!(["rustfmt.toml"]));
    assert_eq!(action(&report, "rustfmt.toml").as_deref(), Some("conflict"));

    let rustfmt = read(&project.join("rustfmt.toml"));
    assert!(
        rustfmt.contains(
            "<<<<<<< ours (your project)\nnewline_style = \"Windows\"\n=======\n\
             newline_style = \"Native\"\n>>>>>>> template 0.3.0\n"
        ),
        "{rustfmt}"
    );
    // Every other file is fully merged, and no temporary file is left behind.
    assert!(read(&project.join("README.md")).contains("Team rule: review everything."));
    let leftovers: Vec<_> = medforge::fs::list_files(&project)
        .unwrap()
        .into_iter()
        .filter(|f| {
            f.contains(".medforge-write-") || f.contains(".update-") || f.contains(".base-old")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(stderr(&output).contains("CONFLICT"), "{}", stderr(&output));
}

#[test]
fn added_files_arrive_and_dropped_files_go_only_if_unmodified() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let team = team_template(work.path(), "team", "0.2.0");
    write(
        &team.join("docs/team-handbook.md"),
        "# Handbook of {{project-name}}\n",
    );
    std::fs::remove_file(team.join("rustfmt.toml")).unwrap();
    std::fs::remove_file(team.join("GEMINI.md")).unwrap();
    append(&project.join("GEMINI.md"), "Our own Gemini notes.");

    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        action(&report, "docs/team-handbook.md").as_deref(),
        Some("added")
    );
    assert_eq!(
        read(&project.join("docs/team-handbook.md")),
        "# Handbook of clinic\n"
    );
    assert_eq!(action(&report, "rustfmt.toml").as_deref(), Some("removed"));
    assert!(!project.join("rustfmt.toml").exists());
    assert_eq!(action(&report, "GEMINI.md").as_deref(), Some("kept"));
    assert!(read(&project.join("GEMINI.md")).contains("Our own Gemini notes."));
    assert!(!project.join(".medforge/base/GEMINI.md").exists());
}

#[test]
fn a_deleted_file_stays_deleted_unless_the_template_changed_it() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let team = team_template(work.path(), "team", "0.2.0");
    append(&team.join("CLAUDE.md"), "Team rule for Claude.");
    std::fs::remove_file(project.join("CLAUDE.md")).unwrap();
    std::fs::remove_file(project.join("GEMINI.md")).unwrap();

    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert!(
        !project.join("GEMINI.md").exists(),
        "an unchanged deleted file came back"
    );
    assert_eq!(action(&report, "GEMINI.md"), None);
    assert_eq!(action(&report, "CLAUDE.md").as_deref(), Some("restored"));
    assert!(read(&project.join("CLAUDE.md")).contains("Team rule for Claude."));
    assert!(
        stderr(&output).contains("you deleted this file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn set_changes_an_answer_and_adds_or_removes_its_files() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &["ai_tools=claude,cursor"]);
    assert!(!project.join(".zed/settings.json").exists());

    let output = update(&project, &["--set", "ai_tools=claude,cursor,zed", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        action(&report, ".zed/settings.json").as_deref(),
        Some("added")
    );
    assert_eq!(
        report["answers"]["ai_tools"],
        serde_json::json!(["cursor", "claude", "zed"])
    );
    assert!(read(&project.join(".zed/settings.json")).contains("private_files"));
    let record = read(&project.join(".medforge/answers.toml"));
    assert!(record.contains("\"zed\""), "{record}");

    let output = update(&project, &["--set", "ai_tools=claude,zed", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        action(&json(&output), ".cursorignore").as_deref(),
        Some("removed")
    );
    assert!(!project.join(".cursorignore").exists());
}

#[test]
fn set_is_validated_like_new_and_changes_nothing_when_wrong() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let before = snapshot(&project);
    for (flag, expected) in [
        ("session_idle_minutes=90", "out of range"),
        ("colour=blue", "unknown option `colour`"),
        ("modules=notes", "must include `patients`"),
    ] {
        let output = update(&project, &["--set", flag]);
        assert_eq!(code(&output), 2, "{flag}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(expected),
            "{flag}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output).trim_end().lines().count(), 1);
    }
    assert_eq!(snapshot(&project), before);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &["ai_tools=claude"]);
    let before = snapshot(&project);
    let output = update(&project, &["--set", "session_idle_minutes=10", "--dry-run"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(
        diff.contains("diff --git a/src/policy.rs b/src/policy.rs\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-pub const SESSION_IDLE_MINUTES: u64 = 15;"),
        "{diff}"
    );
    assert!(
        diff.contains("+pub const SESSION_IDLE_MINUTES: u64 = 10;"),
        "{diff}"
    );
    assert!(diff.contains("+session_idle_minutes = 10"), "{diff}");
    assert!(
        stderr(&output).contains("Nothing was written"),
        "{}",
        stderr(&output)
    );
    assert_eq!(snapshot(&project), before, "--dry-run wrote files");

    let output = update(
        &project,
        &["--set", "session_idle_minutes=10", "--dry-run", "--json"],
    );
    let report = json(&output);
    assert_eq!(report["dry_run"], true);
    assert_eq!(stderr(&output), "", "the JSON says it all");
    let config = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "src/policy.rs")
        .unwrap();
    assert!(config["diff"].as_str().unwrap().contains("= 10;"));
    assert_eq!(snapshot(&project), before);
}

#[test]
fn a_dirty_git_tree_is_refused_unless_allowed() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "generated"]);
    append(&project.join("README.md"), "Uncommitted note.");
    let before = snapshot(&project);

    let output = update(&project, &["--set", "session_idle_minutes=10"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("uncommitted changes"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("--allow-dirty"),
        "{}",
        stderr(&output)
    );
    assert_eq!(snapshot(&project), before);

    let output = update(
        &project,
        &["--set", "session_idle_minutes=10", "--allow-dirty"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(read(&project.join("src/policy.rs")).contains("SESSION_IDLE_MINUTES: u64 = 10;"));
    assert!(read(&project.join("README.md")).contains("Uncommitted note."));

    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "shorter idle timeout"]);
    let output = update(&project, &["--set", "session_idle_minutes=5"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn binary_files_are_never_merged() {
    let work = tempfile::tempdir().unwrap();
    let team = team_template(work.path(), "team", "1.0.0");
    std::fs::create_dir(team.join("assets")).unwrap();
    std::fs::write(team.join("assets/logo.bin"), b"\0team logo v1\n").unwrap();
    // `new --template` with the team's copy.
    let output = medforge(
        work.path(),
        &["new", "clinic", "--yes", "--template", "team"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let project = work.path().join("clinic");
    assert_eq!(
        std::fs::read(project.join("assets/logo.bin")).unwrap(),
        b"\0team logo v1\n"
    );
    assert!(read(&project.join(".medforge/answers.toml")).contains("template_version = \"1.0.0\""));

    std::fs::write(project.join("assets/logo.bin"), b"\0our logo\n").unwrap();
    std::fs::write(team.join("assets/logo.bin"), b"\0team logo v2\n").unwrap();
    write(
        &team.join("medforge-template.toml"),
        "version = \"1.1.0\"\n",
    );
    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["conflicts"], serde_json::json!(["assets/logo.bin"]));
    assert_eq!(
        std::fs::read(project.join("assets/logo.bin")).unwrap(),
        b"\0our logo\n"
    );
    assert_eq!(
        std::fs::read(project.join(".medforge/base/assets/logo.bin")).unwrap(),
        b"\0team logo v2\n"
    );
    let logo = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "assets/logo.bin")
        .unwrap();
    let note = logo["note"].as_str().unwrap().to_owned();
    assert!(note.contains(".medforge/base/assets/logo.bin"), "{note}");
}

#[test]
fn outside_a_generated_project_update_says_so() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(work.path(), &["update", "--json"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a medforge project"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json(&output)["exit_code"], 2);

    let project = generate(work.path(), "clinic", &[]);
    std::fs::remove_dir_all(project.join(".medforge/base")).unwrap();
    let output = update(&project, &[]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no .medforge/base/"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn enabling_a_module_on_an_untouched_project_equals_generating_it_fresh() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &["modules=patients"]);
    let before: Vec<String> = snapshot(&project).into_iter().map(|(f, _)| f).collect();

    let output = update(&project, &["--set", "modules=patients,notes", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);

    // The reference: the same answers, generated from scratch.
    let fresh_work = tempfile::tempdir().unwrap();
    let fresh = generate(fresh_work.path(), "clinic", &["modules=patients,notes"]);
    assert_eq!(snapshot(&project), snapshot(&fresh));

    let added: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["action"] == "added")
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = medforge::record::generated_files(&fresh)
        .unwrap()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert!(!expected.is_empty(), "the notes module adds no file");
    assert_eq!(added, expected);
}

#[test]
fn turning_the_web_interface_off_and_on_equals_generating_it_so() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    assert!(project.join("src/web/mod.rs").is_file());

    let output = update(&project, &["--set", "ui=none", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["answers"]["ui"], "none");
    assert_eq!(
        action(&json(&output), "src/web/mod.rs").as_deref(),
        Some("removed")
    );
    let api_only_work = tempfile::tempdir().unwrap();
    let api_only = generate(api_only_work.path(), "clinic", &["ui=none"]);
    assert_eq!(snapshot(&project), snapshot(&api_only));
    assert!(read(&project.join("src/policy.rs")).contains("Ui = Ui::ApiOnly;"));

    let output = update(&project, &["--set", "ui=web"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let web_work = tempfile::tempdir().unwrap();
    let web = generate(web_work.path(), "clinic", &[]);
    assert_eq!(snapshot(&project), snapshot(&web));
}

/// The page templates and stylesheet under src/web/ are askama's, and the screenshots are
/// images: cargo-generate.toml's `exclude` has liquid leave them alone, so `new`,
/// `.medforge/base/` and `update` all hold them byte for byte as the template does.
/// src/web/mod.rs is rendered.
#[test]
fn askama_templates_are_copied_verbatim_by_new_and_update() {
    let work = tempfile::tempdir().unwrap();
    let team = team_template(work.path(), "team", "1.0.0");
    // An undefined liquid variable fails the render, so a rendered probe fails the test.
    let page = "src/web/templates/probe.html";
    let style = "src/web/assets/probe.css";
    let page_v1 = "<p>{{ patient.name }}</p>\n{% if caller.is_admin %}<a>admin</a>{% endif %}\n";
    write(&team.join(page), page_v1);
    write(
        &team.join(style),
        "/* {{ not_liquid }} */\nbody { margin: 0 }\n",
    );
    // A screenshot is an image, not UTF-8 text: liquid would refuse it.
    let screenshot = "docs/screenshots/probe.png";
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\xff\xfe{{";
    std::fs::create_dir_all(team.join("docs/screenshots")).unwrap();
    std::fs::write(team.join(screenshot), png).unwrap();

    let output = medforge(
        work.path(),
        &["new", "clinic", "--yes", "--template", "team"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let project = work.path().join("clinic");
    for root in [project.clone(), project.join(".medforge/base")] {
        assert_eq!(read(&root.join(page)), page_v1, "{}", root.display());
        assert_eq!(read(&root.join(style)), read(&team.join(style)));
        assert_eq!(std::fs::read(root.join(screenshot)).unwrap(), png);
        let module = read(&root.join("src/web/mod.rs"));
        assert!(
            !module.contains("{%"),
            "src/web/mod.rs was not rendered:\n{module}"
        );
    }

    let page_v2 = "<p>{{ patient.name }}</p>\n{% for code in codes %}{{ code }}{% endfor %}\n";
    write(&team.join(page), page_v2);
    write(
        &team.join("medforge-template.toml"),
        "version = \"1.1.0\"\n",
    );
    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(action(&json(&output), page).as_deref(), Some("updated"));
    assert_eq!(read(&project.join(page)), page_v2);
    assert_eq!(read(&project.join(".medforge/base").join(page)), page_v2);
}

#[test]
fn an_older_medforge_refuses_to_update_a_newer_project() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    edit(
        &project.join(".medforge/answers.toml"),
        &format!("generator_version = \"{}\"", env!("CARGO_PKG_VERSION")),
        "generator_version = \"999.0.0\"",
    );
    let output = update(&project, &[]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("newer than this medforge"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_team_project_is_not_silently_updated_from_the_builtin_template() {
    let work = tempfile::tempdir().unwrap();
    team_template(work.path(), "team", "1.0.0");
    let output = medforge(
        work.path(),
        &["new", "clinic", "--yes", "--template", "team"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let project = work.path().join("clinic");
    assert!(read(&project.join(".medforge/answers.toml")).contains("template_origin = \"team\""));

    let output = update(&project, &["--json"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("pass --template"),
        "{}",
        stderr(&output)
    );
    // With the team's template named, the update goes ahead.
    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn conflicts_left_by_an_update_fail_check_until_resolved() {
    let work = tempfile::tempdir().unwrap();
    let (project, _team) = conflicting(work.path());
    let output = update(&project, &["--template", "../team"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));

    let check = medforge(&project, &["check", "--json"]);
    assert_eq!(code(&check), 4, "{}", stdout(&check));
    let report = json(&check);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["rule"], "no-conflict-markers");
    assert_eq!(finding["file"], "rustfmt.toml");
    let conflicted = read(&project.join("rustfmt.toml"));
    let opening = conflicted
        .lines()
        .position(|line| line.starts_with("<<<<<<< "))
        .unwrap();
    assert_eq!(finding["line"], opening + 1);

    // Resolved (here: the template's side kept), check passes again.
    write(
        &project.join("rustfmt.toml"),
        &read(&project.join(".medforge/base/rustfmt.toml")),
    );
    let check = medforge(&project, &["check"]);
    assert_eq!(code(&check), 0, "{}", stdout(&check));
}

#[test]
fn an_applied_migration_is_never_changed_or_removed_and_the_report_says_so() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let team = team_template(work.path(), "team", "0.2.0");
    // The team edits an existing migration, adds one, and drops another.
    append(
        &team.join("migrations/0008_break_glass.sql"),
        "-- A team change to an applied migration.",
    );
    write(&team.join("migrations/0200_wards.sql"), "SELECT 1;\n");
    std::fs::remove_file(team.join("migrations/0009_egress.sql")).unwrap();
    let before_0008 = read(&project.join("migrations/0008_break_glass.sql"));

    let output = update(&project, &["--template", "../team", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        report["migrations_withheld"],
        serde_json::json!([
            "migrations/0008_break_glass.sql",
            "migrations/0009_egress.sql"
        ]),
        "{report:#}"
    );
    assert_eq!(
        action(&report, "migrations/0008_break_glass.sql").as_deref(),
        Some("withheld")
    );
    assert_eq!(
        action(&report, "migrations/0200_wards.sql").as_deref(),
        Some("added")
    );
    assert_eq!(
        read(&project.join("migrations/0008_break_glass.sql")),
        before_0008
    );
    assert!(project.join("migrations/0009_egress.sql").is_file());
    assert!(project.join("migrations/0200_wards.sql").is_file());
    let sums = read(&project.join(".medforge/migrations.sha384"));
    assert!(sums.contains("  migrations/0200_wards.sql\n"), "{sums}");

    // A recorded migration edited by hand is a check finding.
    append(&project.join("migrations/0200_wards.sql"), "SELECT 2;");
    let output = medforge(&project, &["check", "--json"]);
    assert_ne!(code(&output), 0);
    assert!(
        stdout(&output).contains("migrations-unchanged"),
        "{}",
        stdout(&output)
    );
}
