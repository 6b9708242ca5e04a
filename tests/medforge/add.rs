//! `medforge add resource` the way a script or an AI agent runs it: no TTY, flags only.
//! Everything here skips the `.sqlx` refresh or fails before it (no PostgreSQL, no build);
//! `slow::add` refreshes it and runs the generated project's own tests.

use std::path::Path;

use crate::support::project::{edit, git, json, read, snapshot};
use crate::support::{code, generate, medforge, stderr, stdout};

/// The first resource medforge's CI adds (SPEC 4.6's example, with a code field).
pub(crate) const PRESCRIPTIONS: &[&str] = &[
    "add",
    "resource",
    "prescriptions",
    "--field",
    "medication:text:phi:required",
    "--field",
    "dose:text:phi",
    "--field",
    "prescribed_on:date",
    "--field",
    "status:code",
    "--values",
    "active,stopped",
    "--belongs-to",
    "patient",
];

/// `medforge add resource ...` in `project`, with `extra` flags after the resource's.
fn add(project: &Path, resource: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = resource.to_vec();
    args.extend(extra);
    medforge(project, &args)
}

#[test]
fn without_a_terminal_the_missing_name_and_fields_are_named() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let before = snapshot(&project);
    let output = medforge(&project, &["add", "resource", "rooms"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("--field NAME:TYPE"),
        "{}",
        stderr(&output)
    );
    let output = medforge(&project, &["add", "resource", "--json"]);
    assert_eq!(code(&output), 2);
    let document = json(&output);
    let error = document["error"].as_str().unwrap();
    assert!(
        error.contains("the resource's name and its fields"),
        "{error}"
    );
    assert_eq!(document["exit_code"], 2);
    assert_eq!(snapshot(&project), before, "nothing is written");
}

#[test]
fn bad_input_gets_one_sentence_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let before = snapshot(&project);
    let field = |raw: &'static str| vec!["add", "resource", "rooms", "--field", raw];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["add", "resource", "patients", "--field", "x:text"],
            "name",
            "uses that name already",
        ),
        (
            vec!["add", "resource", "sessions", "--field", "x:text"],
            "name",
            "uses that name already",
        ),
        (
            vec!["add", "resource", "selfs", "--field", "x:text"],
            "name",
            "key word",
        ),
        (
            vec!["add", "resource", "room", "--field", "x:text"],
            "name",
            "in the plural",
        ),
        (field("label:texty"), "--field", "is not a field type"),
        (
            field("clinic_id:text"),
            "--field",
            "every record has that column",
        ),
        (
            field("created_at:datetime"),
            "--field",
            "every record has that column",
        ),
        (field("select:text"), "--field", "SQL key word"),
        (field("status:code"), "--values", "needs its values"),
        (
            vec![
                "add", "resource", "rooms", "--field", "x:text", "--values", "a,b",
            ],
            "--values",
            "no --field has type code",
        ),
        (
            vec![
                "add",
                "resource",
                "rooms",
                "--field",
                "x:text",
                "--roles",
                "read=doctor",
            ],
            "--roles",
            "is not a role",
        ),
    ];
    for (args, option, expected) in cases {
        // Refused before any refresh: --skip-prepare only keeps a wrong test fast.
        let mut with_json = args.clone();
        with_json.extend(["--json", "--skip-prepare"]);
        let output = medforge(&project, &with_json);
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        let document = json(&output);
        let error = document["error"].as_str().unwrap();
        assert!(error.contains(expected), "{args:?}: {error}");
        assert!(!error.contains('\n'), "one sentence: {error}");
        assert_eq!(document["option"], option, "{args:?}");
        // The same sentence on stderr, without a backtrace.
        assert_eq!(stderr(&output).trim(), format!("error: {error}"));
    }
    // An unknown type lists the ones there are.
    let output = medforge(
        &project,
        &["add", "resource", "rooms", "--field", "a:blob", "--json"],
    );
    assert_eq!(json(&output)["allowed"][0], "text");
    assert_eq!(snapshot(&project), before, "nothing is written");
}

#[test]
fn a_directory_not_generated_by_medforge_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(
        work.path(),
        &["add", "resource", "rooms", "--field", "label:text"],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("is not a medforge project"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn without_sqlx_cli_or_postgresql_it_says_what_to_install_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let before = snapshot(&project);
    let output = std::process::Command::new(crate::support::BIN)
        .args(PRESCRIPTIONS)
        .arg("--json")
        .current_dir(&project)
        .env("PATH", "/nonexistent")
        .env("PG_BINDIR", "/nonexistent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let error = json(&output)["error"].as_str().unwrap().to_owned();
    assert!(error.contains("cargo install --locked sqlx-cli"), "{error}");
    assert!(error.contains("--skip-prepare"), "{error}");
    assert_eq!(snapshot(&project), before, "nothing is written");
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let before = snapshot(&project);
    let output = add(&project, PRESCRIPTIONS, &["--dry-run"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(diff.contains("+CREATE TABLE prescriptions ("), "{diff}");
    assert!(diff.contains("+ALTER TABLE prescriptions FORCE ROW LEVEL SECURITY;"));
    assert!(
        diff.contains("+            (Prescriptions, Read | Create | Update) => self == Clinician,")
    );
    assert!(stderr(&output).contains("Nothing was written (--dry-run)"));

    let output = add(&project, PRESCRIPTIONS, &["--dry-run", "--json"]);
    assert_eq!(code(&output), 0);
    let document = json(&output);
    assert_eq!(document["dry_run"], true);
    assert_eq!(document["query_data"], "would-refresh");
    let files: Vec<&str> = document["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for expected in [
        "src/models/prescription.rs",
        "src/routes/prescriptions.rs",
        "tests/service/prescriptions.rs",
        "src/auth/roles.rs",
        "compliance/phi-inventory.md",
        "compliance/controls.md",
    ] {
        assert!(files.contains(&expected), "{expected} in {files:?}");
    }
    assert!(document["files"][0]["diff"].is_string());
    assert_eq!(snapshot(&project), before, "nothing is written");
}

/// The paths `add` would write in `project`, from `--dry-run --json`.
fn planned_files(project: &Path, resource: &[&str]) -> Vec<String> {
    let output = add(project, resource, &["--dry-run", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    json(&output)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_pages_of_a_resource_come_with_the_web_interface_only() {
    let work = tempfile::tempdir().unwrap();
    let (web, api) = (work.path().join("web"), work.path().join("api"));
    std::fs::create_dir_all(&web).unwrap();
    std::fs::create_dir_all(&api).unwrap();
    let with_pages = generate(&web, "clinic", &[]);
    let files = planned_files(&with_pages, PRESCRIPTIONS);
    for expected in ["src/web/prescriptions.rs", "src/web/mod.rs"] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }
    let rooms = ["add", "resource", "rooms", "--field", "label:text"];
    let files = planned_files(&with_pages, &rooms);
    // A resource of no patient gets its own page, and a link to it.
    for expected in ["src/web/rooms.rs", "src/web/mod.rs", "src/web/page.rs"] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }

    let api_only = generate(&api, "clinic", &["ui=none"]);
    let files = planned_files(&api_only, PRESCRIPTIONS);
    assert!(files.iter().any(|f| f == "src/models/prescription.rs"));
    assert!(
        !files.iter().any(|f| f.starts_with("src/web/")),
        "{files:?}"
    );
}

#[test]
fn the_resource_is_recorded_and_a_second_one_of_the_same_name_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let output = add(&project, PRESCRIPTIONS, &["--skip-prepare", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let document = json(&output);
    assert_eq!(document["query_data"], "skipped");
    let migration = document["migration"].as_str().unwrap().to_owned();
    assert!(migration.starts_with("migrations/") && migration.ends_with("_prescriptions.sql"));
    assert!(
        document["next_steps"][0]
            .as_str()
            .unwrap()
            .contains("medforge db prepare")
    );

    // Recorded for `update`: the answers and the base hold it.
    let answers = read(&project.join(".medforge/answers.toml"));
    assert!(answers.contains("[[resources]]"), "{answers}");
    assert!(answers.contains("name = \"prescriptions\""), "{answers}");
    assert!(
        answers.contains(&format!("migration = \"{migration}\"")),
        "{answers}"
    );
    for file in [
        migration.as_str(),
        "src/models/prescription.rs",
        "src/auth/roles.rs",
    ] {
        assert_eq!(
            read(&project.join(".medforge/base").join(file)),
            read(&project.join(file)),
            "{file}"
        );
    }
    assert!(read(&project.join(".medforge/migrations.sha384")).contains(&migration));
    // The inventory lists the new PHI columns, and the migration is the highest.
    let inventory = read(&project.join("compliance/phi-inventory.md"));
    assert!(
        inventory.contains("| `prescriptions` | `medication` |"),
        "{inventory}"
    );
    assert!(!inventory.contains("| `prescriptions` | `prescribed_on` |"));

    let again = add(&project, PRESCRIPTIONS, &["--skip-prepare"]);
    assert_eq!(code(&again), 2);
    assert!(
        stderr(&again).contains("has the resource `prescriptions` already"),
        "{}",
        stderr(&again)
    );

    // A second resource lands beside the first in every list.
    let output = medforge(
        &project,
        &[
            "add",
            "resource",
            "rooms",
            "--field",
            "label:text",
            "--skip-prepare",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let roles = read(&project.join("src/auth/roles.rs"));
    assert!(
        roles.contains("(Prescriptions, Delete) => self == Admin,"),
        "{roles}"
    );
    assert!(
        roles.contains("(Rooms, Delete) => self == Admin,"),
        "{roles}"
    );
    let models = read(&project.join("src/models/mod.rs"));
    assert!(
        models.contains("pub mod prescription;\npub mod room;\n"),
        "{models}"
    );
}

#[test]
fn a_clean_check_holds_the_new_migration_to_the_rules() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let output = add(&project, PRESCRIPTIONS, &["--skip-prepare", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let migration = json(&output)["migration"].as_str().unwrap().to_owned();
    let output = medforge(&project, &["check", "--json"]);
    let document = json(&output);
    let rls = document["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "rls-forced")
        .unwrap()
        .clone();
    assert_eq!(rls["passed"], true, "{document}");

    // Removing the FORCE line is caught (and so is the change of a recorded migration).
    edit(
        &project.join(&migration),
        "ALTER TABLE prescriptions FORCE ROW LEVEL SECURITY;\n",
        "",
    );
    let output = medforge(&project, &["check", "--json"]);
    assert_eq!(code(&output), 4);
    let findings = json(&output)["findings"].clone();
    let rules: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == migration.as_str())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"rls-forced"), "{findings}");
    assert!(rules.contains(&"migrations-unchanged"), "{findings}");
}

#[test]
fn update_renders_the_resource_again_and_keeps_a_hand_edit() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let output = add(&project, PRESCRIPTIONS, &["--skip-prepare"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "add prescriptions"]);

    // Nothing changed in the template: update has nothing to do for the resource.
    let output = medforge(&project, &["update", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let files = json(&output)["files"].clone();
    assert!(
        !files.to_string().contains("prescription"),
        "an unchanged template changes nothing: {files}"
    );

    // A hand edit in the model, and a template change elsewhere in it (a team's copy).
    let model = project.join("src/models/prescription.rs");
    edit(
        &model,
        "/// The prescriptions of the clinic a transaction is scoped to.",
        "/// The prescriptions of the clinic a transaction is scoped to (edited by hand).",
    );
    git(&project, &["commit", "-q", "-am", "hand edit"]);
    let team = crate::support::project::team_template(work.path(), "team", "0.2.0");
    edit(
        &team.join("resource-templates/model.rs.liquid"),
        "/// A {{ resource.word }}, as the API returns it.",
        "/// A {{ resource.word }}, as the API returns it (team template).",
    );
    // The record says built-in; a team's template is used on purpose with --template.
    let output = medforge(
        &project,
        &["update", "--template", team.to_str().unwrap(), "--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let document = json(&output);
    let change = document["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "src/models/prescription.rs")
        .unwrap_or_else(|| panic!("{document}"))
        .clone();
    assert_eq!(change["action"], "merged", "{document}");
    let text = read(&model);
    assert!(text.contains("(edited by hand)"), "{text}");
    assert!(
        text.contains("as the API returns it (team template)."),
        "{text}"
    );
    // Still recorded, and the base is the new render.
    assert!(read(&project.join(".medforge/answers.toml")).contains("name = \"prescriptions\""));
    assert!(
        read(&project.join(".medforge/base/src/models/prescription.rs"))
            .contains("(team template)")
    );
}

/// The files an added resource gets, and the lines it adds to the shared files (not the
/// lines around them, which are other work's), from the diff `--dry-run` prints; the
/// migration's version, a time stamp, is written `VERSION`. Review a change with `cargo
/// insta review`.
#[test]
fn the_files_of_an_added_resource() {
    let work = tempfile::tempdir().unwrap();
    let project = generate(work.path(), "clinic", &[]);
    let output = add(&project, PRESCRIPTIONS, &["--dry-run", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let document = json(&output);
    let migration = document["migration"].as_str().unwrap();
    let version = migration
        .trim_start_matches("migrations/")
        .split('_')
        .next()
        .unwrap();
    let mut files = String::new();
    for file in document["files"].as_array().unwrap() {
        let what = match file["action"].as_str().unwrap() {
            "added" => "new file",
            _ => "lines added",
        };
        files.push_str(&format!(
            "==> {} ({what}) <==\n",
            file["path"].as_str().unwrap()
        ));
        for line in file["diff"].as_str().unwrap().lines() {
            if let Some(added) = line.strip_prefix('+').filter(|_| !line.starts_with("+++")) {
                files.push_str(added);
                files.push('\n');
            }
        }
        files.push('\n');
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(PRESCRIPTIONS.join(" "));
    settings.bind(|| {
        insta::assert_snapshot!(
            "add_prescriptions__files",
            files.replace(version, "VERSION")
        );
    });
}
