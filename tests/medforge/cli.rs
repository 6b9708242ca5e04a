//! End-to-end runs of `medforge new` and `medforge options` as an agent would drive them:
//! no TTY, flags only, JSON on stdout, exit codes per SPEC §3.

use std::path::Path;

use crate::support::{code, entries, medforge, medforge_bin, stderr, stdout};
use serde_json::Value;

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{}", stdout(output)))
}

#[test]
fn yes_and_json_generate_the_default_project_and_report_it() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(work.path(), &["new", "demo", "--yes", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let report = json(&output);
    assert_eq!(report["status"], "ok");
    assert_eq!(report["name"], "demo");
    assert_eq!(report["dry_run"], false);
    let project = work.path().join("demo");
    assert_eq!(Path::new(report["path"].as_str().unwrap()), project);
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for expected in [
        "Cargo.toml",
        ".medforge/answers.toml",
        "README.md",
        ".ci/run",
    ] {
        assert!(
            files.contains(&expected),
            "{expected} missing from {files:?}"
        );
        assert!(project.join(expected).is_file(), "{expected} not written");
    }
    assert_eq!(report["answers"]["tenancy"], "multi");
    assert_eq!(report["answers"]["session_idle_minutes"], 15);
    assert!(report["next_steps"].as_array().unwrap().len() >= 2);

    let record = std::fs::read_to_string(project.join(".medforge/answers.toml")).unwrap();
    let record: toml::Table = record.parse().unwrap();
    assert_eq!(
        record["medforge"]["generator_version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(record["medforge"]["template_version"].as_str().is_some());
    // Every option is recorded, the web interface's among them.
    assert_eq!(
        record["answers"].as_table().unwrap().len(),
        medforge::options::OPTIONS.len()
    );
    assert_eq!(record["answers"]["ui"].as_str(), Some("web"));
    // Human messages stay on stderr.
    assert!(
        stderr(&output).contains("Created `demo`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_binary_needs_no_checkout() {
    // An installed medforge carries its templates: copy the binary away from the source tree.
    let install = tempfile::tempdir().unwrap();
    let bin = install.path().join("medforge");
    std::fs::copy(crate::support::BIN, &bin).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = medforge_bin(&bin, work.path(), &["new", "demo", "--yes"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(work.path().join("demo/Cargo.toml").is_file());
    assert!(
        work.path()
            .join("demo/guardrails/phi-guard/src/lib.rs")
            .is_file()
    );
}

#[test]
fn without_a_tty_and_without_yes_it_names_the_missing_flags() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(
        work.path(),
        &["new", "demo", "--set", "tenancy=single", "--json"],
    );
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.contains("--yes"), "{message}");
    assert!(message.contains("--set regime="), "{message}");
    assert!(!message.contains("--set tenancy="), "{message}");
    assert_eq!(json(&output)["exit_code"], 2);
    assert!(
        entries(work.path()).is_empty(),
        "left {:?}",
        entries(work.path())
    );
}

#[test]
fn a_complete_answers_file_needs_no_yes() {
    let work = tempfile::tempdir().unwrap();
    let answers = work.path().join("answers.toml");
    std::fs::write(
        &answers,
        r#"
regime = "hipaa"
tenancy = "single"
mfa = "totp-all"
session_idle_minutes = 10
session_absolute_hours = 4
modules = ["patients", "appointments"]
tls = "proxy"
key_provider = "env"
ai_tools = ["claude"]
data_residency = "us"
ui = "none"
"#,
    )
    .unwrap();
    let output = medforge(
        work.path(),
        &[
            "new",
            "demo",
            "--answers",
            "answers.toml",
            "--set",
            "data_residency=eu",
            "--json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["answers"]["regime"], "hipaa");
    // --set wins over the file.
    assert_eq!(report["answers"]["data_residency"], "eu");
    assert_eq!(
        report["answers"]["modules"],
        serde_json::json!(["patients", "appointments"])
    );
    // An API-only project: the answer is recorded and no page code is written.
    assert_eq!(report["answers"]["ui"], "none");
    let project = work.path().join("demo");
    let record = std::fs::read_to_string(project.join(".medforge/answers.toml")).unwrap();
    assert!(record.contains("ui = \"none\""), "{record}");
    for web_only in medforge::options::UI.files.iter().flat_map(|c| c.files) {
        assert!(!project.join(web_only).exists(), "{web_only}");
    }
}

#[test]
fn bad_input_gets_one_sentence_exit_2_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("broken.toml"), "tenancy = [").unwrap();
    std::fs::write(work.path().join("unknown.toml"), "colour = \"blue\"").unwrap();
    std::fs::create_dir(work.path().join("occupied")).unwrap();
    std::fs::write(work.path().join("occupied/notes.txt"), "mine").unwrap();

    let cases: &[(&[&str], &str)] = &[
        (&["new", "Bad Name", "--yes"], "invalid project name"),
        (
            &["new", "demo", "--yes", "--set", "colour=blue"],
            "unknown option `colour`",
        ),
        (&["new", "demo", "--yes", "--set", "tenancy"], "KEY=VALUE"),
        (
            &["new", "demo", "--yes", "--set", "session_idle_minutes=90"],
            "out of range",
        ),
        (
            &["new", "demo", "--yes", "--set", "tls=none"],
            "is not one of",
        ),
        (
            &["new", "demo", "--yes", "--answers", "broken.toml"],
            "not valid TOML",
        ),
        (
            &["new", "demo", "--yes", "--answers", "unknown.toml"],
            "unknown option",
        ),
        (
            &["new", "demo", "--yes", "--answers", "absent.toml"],
            "cannot read answers file",
        ),
        (
            &["new", "demo", "--yes", "--dir", "occupied"],
            "is not empty",
        ),
        (
            &["new", "demo", "--yes", "--dir", "no/such/parent"],
            "does not exist",
        ),
        (&["new", "--yes"], "no project name given"),
    ];
    for (args, expected) in cases {
        let before = entries(work.path());
        let output = medforge(work.path(), args);
        let message = stderr(&output);
        assert_eq!(code(&output), 2, "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(message.starts_with("error: "), "{args:?}: {message}");
        assert_eq!(message.trim_end().lines().count(), 1, "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        assert_eq!(entries(work.path()), before, "{args:?} left files behind");

        // The same failure with --json: one document on stdout with the same sentence.
        let with_json = medforge(work.path(), &[*args, &["--json"]].concat());
        assert_eq!(code(&with_json), 2, "{args:?}: {}", stderr(&with_json));
        let document = json(&with_json);
        assert_eq!(document["status"], "error", "{args:?}");
        assert_eq!(document["exit_code"], 2, "{args:?}");
        assert_eq!(
            document["error"].as_str().map(|e| format!("error: {e}\n")),
            Some(message),
            "{args:?}"
        );
        assert_eq!(entries(work.path()), before, "{args:?} left files behind");
    }
    assert_eq!(entries(&work.path().join("occupied")), ["notes.txt"]);
}

#[test]
fn json_failures_name_the_option_and_what_it_allows() {
    let work = tempfile::tempdir().unwrap();
    let failure = |args: &[&str]| {
        let output = medforge(work.path(), args);
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        json(&output)
    };
    let tls = failure(&["new", "demo", "--yes", "--set", "tls=none", "--json"]);
    assert_eq!(tls["option"], "tls");
    assert_eq!(tls["allowed"], serde_json::json!(["rustls", "proxy"]));
    let unknown = failure(&["new", "demo", "--yes", "--set", "colour=blue", "--json"]);
    assert_eq!(unknown["option"], "colour");
    assert_eq!(unknown["allowed"][0], "regime");
    // Free text and numbers have a rule, not a list: the sentence says it.
    let idle = failure(&[
        "new",
        "demo",
        "--yes",
        "--set",
        "session_idle_minutes=90",
        "--json",
    ]);
    assert_eq!(idle["option"], "session_idle_minutes");
    assert!(idle.get("allowed").is_none(), "{idle}");
    assert!(entries(work.path()).is_empty());
}

#[test]
fn flags_clap_refuses_exit_2_and_are_json_with_json() {
    let work = tempfile::tempdir().unwrap();
    // Without --json: clap's own message on stderr, nothing on stdout.
    let plain = medforge(work.path(), &["new", "demo", "--no-such-flag"]);
    assert_eq!(code(&plain), 2);
    assert!(stdout(&plain).is_empty(), "{}", stdout(&plain));
    assert!(
        stderr(&plain).contains("--no-such-flag"),
        "{}",
        stderr(&plain)
    );

    let cases: &[(&[&str], &str, &str)] = &[
        (&["new", "x", "--bogus", "--json"], "--bogus", "--dir"),
        (&["bogus", "--json"], "bogus", "new"),
        (&["update", "--json", "--bogus"], "--bogus", "--allow-dirty"),
    ];
    for (args, option, accepted) in cases {
        let output = medforge(work.path(), args);
        assert_eq!(code(&output), 2, "{args:?}");
        let document = json(&output);
        assert_eq!(document["status"], "error", "{args:?}");
        assert_eq!(document["exit_code"], 2, "{args:?}");
        let error = document["error"].as_str().unwrap();
        assert!(error.contains(option), "{args:?}: {error}");
        assert_eq!(error.lines().count(), 1, "{args:?}: {error}");
        assert_eq!(document["option"], *option, "{args:?}");
        let allowed: Vec<&str> = document["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(allowed.contains(accepted), "{args:?}: {allowed:?}");
    }
    let conflict = medforge(work.path(), &["check", "--json", "--sarif"]);
    assert_eq!(code(&conflict), 2);
    assert_eq!(json(&conflict)["option"], "--json");
    assert!(entries(work.path()).is_empty());
}

#[test]
fn an_unwritable_directory_is_refused_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let target = unwritable_parent(work.path()).join("demo");
    let output = medforge(
        work.path(),
        &[
            "new",
            "demo",
            "--yes",
            "--json",
            "--dir",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write to"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json(&output)["status"], "error");
    assert!(!target.exists());
}

/// A directory this process cannot create files in. Root ignores permission bits, so as
/// root the kernel's read-only /proc stands in.
fn unwritable_parent(work: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let locked = work.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), "").is_ok() {
        std::fs::remove_file(locked.join("probe")).unwrap();
        return Path::new("/proc").to_owned();
    }
    locked
}

#[test]
fn a_failed_render_leaves_nothing_half_written() {
    let work = tempfile::tempdir().unwrap();
    let template = work.path().join("team-template");
    std::fs::create_dir(&template).unwrap();
    std::fs::write(
        template.join("cargo-generate.toml"),
        "[template]\ncargo_generate_version = \">=0.26.0\"\n",
    )
    .unwrap();
    std::fs::write(
        template.join("medforge-template.toml"),
        "version = \"9.9.9\"\n",
    )
    .unwrap();
    std::fs::write(
        template.join("Cargo.toml"),
        "[package]\nname = \"{{crate_name}}\"\n",
    )
    .unwrap();
    std::fs::write(template.join("broken.rs"), "{% if %}").unwrap();

    let output = medforge(
        work.path(),
        &["new", "demo", "--yes", "--template", "team-template"],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("rendering the service template failed"));
    assert_eq!(entries(work.path()), ["team-template"]);
}

#[test]
fn dry_run_lists_files_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    // With every tool installed, there is nothing to warn about.
    let bin = fake_tools(tools.path(), ALL_TOOLS);
    let output = medforge_with_path(
        work.path(),
        &bin,
        &["new", "demo", "--yes", "--dry-run", "--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["dry_run"], true);
    assert!(report["files"].as_array().unwrap().len() > 5);
    assert!(entries(work.path()).is_empty());
    // The files are in the JSON; stderr is kept for warnings.
    assert_eq!(stderr(&output), "");

    let human = medforge(work.path(), &["new", "demo", "--yes", "--dry-run"]);
    assert_eq!(code(&human), 0, "{}", stderr(&human));
    assert!(stdout(&human).is_empty(), "{}", stdout(&human));
    let listing = stderr(&human);
    assert!(listing.contains("  Cargo.toml\n"), "{listing}");
    assert!(listing.contains("Nothing was written"), "{listing}");
    assert!(entries(work.path()).is_empty());
}

#[test]
fn force_writes_into_a_non_empty_directory_and_keeps_other_files() {
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("demo");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("notes.txt"), "mine").unwrap();
    std::fs::write(project.join("README.md"), "old").unwrap();
    let output = medforge(work.path(), &["new", "demo", "--yes", "--force"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(project.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_ne!(
        std::fs::read_to_string(project.join("README.md")).unwrap(),
        "old"
    );
    assert!(project.join("Cargo.toml").is_file());
    assert!(
        entries(work.path())
            .iter()
            .all(|e| !e.starts_with(".medforge-new")),
        "staging left behind"
    );
}

#[test]
fn options_json_lists_every_option_with_type_default_and_help() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(work.path(), &["options", "--json"]);
    assert_eq!(code(&output), 0);
    let options = json(&output);
    let options = options.as_array().unwrap();
    let keys: Vec<&str> = options.iter().map(|o| o["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "regime",
            "tenancy",
            "mfa",
            "session_idle_minutes",
            "session_absolute_hours",
            "modules",
            "tls",
            "key_provider",
            "ai_tools",
            "data_residency",
            "ui"
        ]
    );
    for option in options {
        assert!(option["type"].is_string(), "{option}");
        assert!(!option["default"].is_null(), "{option}");
        assert!(option["help"].as_str().unwrap().len() > 20, "{option}");
    }
    let idle = &options[3];
    assert_eq!(idle["type"], "integer");
    assert_eq!(
        (idle["min"].as_u64(), idle["max"].as_u64()),
        (Some(1), Some(60))
    );
    assert_eq!(
        options[1]["choices"],
        serde_json::json!(["single", "multi"])
    );
}

#[test]
fn options_without_json_is_readable_help() {
    let work = tempfile::tempdir().unwrap();
    let output = medforge(work.path(), &["options"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    assert!(
        text.contains("session_idle_minutes  (whole number 1..=60; default: 15)"),
        "{text}"
    );
}

#[test]
fn names_of_the_generated_workspace_and_of_std_are_refused() {
    let work = tempfile::tempdir().unwrap();
    for name in [
        "dev",
        "bench",
        "phi-guard",
        "phi_guard",
        "phi-guard-macros",
        "phi_guard_macros",
        "pg-throwaway",
        "pg_throwaway",
        "phi-scan",
        "phi_scan",
        "std",
        "core",
        "alloc",
        "proc_macro",
        "proc-macro",
        "test",
    ] {
        let output = medforge(work.path(), &["new", name, "--yes"]);
        let message = stderr(&output);
        assert_eq!(code(&output), 2, "{name}: {message}");
        assert!(
            message.starts_with(&format!("error: invalid project name `{name}`: ")),
            "{name}: {message}"
        );
        assert!(message.contains("pick another"), "{name}: {message}");
        assert_eq!(message.trim_end().lines().count(), 1, "{name}: {message}");
        assert!(entries(work.path()).is_empty(), "{name} left files behind");
    }
}

#[test]
fn completions_cover_every_shell_and_subcommand() {
    let work = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _medforge"),
        ("zsh", "#compdef medforge"),
        ("fish", "complete -c medforge"),
        ("elvish", "edit:completion:arg-completer[medforge]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = medforge(work.path(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in [
            "new",
            "update",
            "check",
            "completions",
            "dry-run",
            "allow-dirty",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
        assert!(stderr(&output).is_empty(), "{shell}: {}", stderr(&output));
    }
    let unknown = medforge(work.path(), &["completions", "tcsh"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("bash"), "{}", stderr(&unknown));
}

#[test]
fn version_names_the_template_version_too() {
    let work = tempfile::tempdir().unwrap();
    let metadata = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/service/medforge-template.toml"),
    )
    .unwrap();
    let template: toml::Table = metadata.parse().unwrap();
    let template = template["version"].as_str().unwrap();
    let output = medforge(work.path(), &["--version"]);
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        format!(
            "medforge {} (template {template})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// A directory of stand-in programs for `doctor`: each prints its `--version` line.
fn fake_tools(dir: &Path, tools: &[(&str, &str)]) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, version) in tools {
        let program = bin.join(name);
        std::fs::write(&program, format!("#!/bin/sh\necho '{version}'\n")).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Everything a generated project needs, at the versions it needs.
const ALL_TOOLS: &[(&str, &str)] = &[
    ("rustc", "rustc 1.95.0 (59807616e 2026-04-14)"),
    ("initdb", "initdb (PostgreSQL) 17.5"),
    ("pg_ctl", "pg_ctl (PostgreSQL) 17.5"),
    ("psql", "psql (PostgreSQL) 17.5"),
    ("sqlx", "sqlx-cli 0.9.0"),
    ("git", "git version 2.47.0"),
    ("jq", "jq-1.7.1"),
];

/// medforge with only `bin` on PATH.
fn medforge_with_path(cwd: &Path, bin: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(crate::support::BIN)
        .args(args)
        .current_dir(cwd)
        .env("PATH", bin)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("medforge runs")
}

/// The item `doctor --json` reported for `name`.
fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

#[test]
fn doctor_passes_when_everything_is_installed() {
    let work = tempfile::tempdir().unwrap();
    let bin = fake_tools(work.path(), ALL_TOOLS);
    let output = medforge_with_path(work.path(), &bin, &["doctor"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Everything a generated project needs is installed."),
        "{text}"
    );
    assert!(!text.contains("MISSING"), "{text}");

    let output = medforge_with_path(work.path(), &bin, &["doctor", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "ok");
    assert_eq!(report["exit_code"], 0);
    assert!(report.get("error").is_none(), "{report:#}");
    assert_eq!(report["rust_version_from"], "the service template");
    assert_eq!(item(&report, "rustc")["version"], "1.95.0");
    assert_eq!(item(&report, "sqlx-cli")["version"], "0.9.0");
    for name in ["rustc", "initdb", "pg_ctl", "psql", "sqlx-cli", "git", "jq"] {
        assert_eq!(item(&report, name)["status"], "ok", "{name}");
    }
}

#[test]
fn doctor_names_what_is_missing_with_install_lines_and_exits_2() {
    let work = tempfile::tempdir().unwrap();
    // No sqlx-cli, no jq, and an old compiler.
    let tools: Vec<(&str, &str)> = ALL_TOOLS
        .iter()
        .copied()
        .filter(|(name, _)| !matches!(*name, "sqlx" | "jq" | "rustc"))
        .chain([("rustc", "rustc 1.80.0 (051478957 2024-07-21)")])
        .collect();
    let bin = fake_tools(work.path(), &tools);
    let output = medforge_with_path(work.path(), &bin, &["doctor"]);
    assert_eq!(code(&output), 2, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("install: cargo install --locked sqlx-cli --version 0.9.0"),
        "{text}"
    );
    assert!(text.contains("install: apt-get install jq"), "{text}");
    assert!(text.contains("install: curl --proto"), "{text}");
    assert!(
        text.contains("Missing: rustc 1.94 or newer, sqlx-cli."),
        "{text}"
    );

    let output = medforge_with_path(work.path(), &bin, &["doctor", "--json"]);
    assert_eq!(code(&output), 2);
    let report = json(&output);
    assert_eq!(report["status"], "missing");
    assert_eq!(report["exit_code"], 2);
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("sqlx-cli"), "{error}");
    assert_eq!(item(&report, "rustc")["status"], "outdated");
    assert_eq!(item(&report, "sqlx-cli")["status"], "missing");
    // jq only serves the README walkthrough: a warning, not a failure.
    let jq = item(&report, "jq");
    assert_eq!(
        (jq["status"].as_str(), jq["required"].as_bool()),
        (Some("missing"), Some(false))
    );

    // Only jq missing: doctor passes and says so.
    let tools: Vec<(&str, &str)> = ALL_TOOLS
        .iter()
        .copied()
        .filter(|(n, _)| *n != "jq")
        .collect();
    let bin = fake_tools(&work.path().join("jq-less"), &tools);
    let output = medforge_with_path(work.path(), &bin, &["doctor"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert!(stdout(&output).contains("Everything required is installed; missing jq (optional)"));
}

#[test]
fn doctor_reads_the_rust_version_and_sqlx_pin_of_the_project() {
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("future");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[workspace]\nmembers = [\".\"]\n[workspace.package]\nrust-version = \"1.99\"\n",
    )
    .unwrap();
    let tools: Vec<(&str, &str)> = ALL_TOOLS
        .iter()
        .copied()
        .filter(|(name, _)| *name != "sqlx")
        .chain([("sqlx", "sqlx-cli 0.8.6")])
        .collect();
    let bin = fake_tools(work.path(), &tools);
    let output = medforge_with_path(work.path(), &bin, &["doctor", "--dir", "future", "--json"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["rust_version"], "1.99");
    assert!(
        report["rust_version_from"]
            .as_str()
            .unwrap()
            .ends_with("future/Cargo.toml"),
        "{report:#}"
    );
    assert_eq!(item(&report, "rustc")["status"], "outdated");
    let sqlx = item(&report, "sqlx-cli");
    assert_eq!(sqlx["status"], "outdated");
    assert_eq!(sqlx["version"], "0.8.6");
    assert!(
        sqlx["install"].as_str().unwrap().ends_with("--force"),
        "{sqlx}"
    );

    let absent = medforge_with_path(work.path(), &bin, &["doctor", "--dir", "absent", "--json"]);
    assert_eq!(code(&absent), 2);
    assert!(
        json(&absent)["error"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
}

#[test]
fn new_ends_with_what_doctor_would_report() {
    let work = tempfile::tempdir().unwrap();
    let bin = fake_tools(work.path(), ALL_TOOLS);
    let output = medforge_with_path(work.path(), &bin, &["new", "ready", "--yes"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output).lines().last(),
        Some("doctor: everything this project needs is installed")
    );

    let tools: Vec<(&str, &str)> = ALL_TOOLS
        .iter()
        .copied()
        .filter(|(name, _)| !matches!(*name, "sqlx" | "jq"))
        .collect();
    let lacking = fake_tools(&work.path().join("lacking"), &tools);
    let output = medforge_with_path(work.path(), &lacking, &["new", "short", "--yes", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output).lines().last(),
        Some("doctor: missing sqlx-cli, jq (optional) — run `medforge doctor`")
    );
    let report = json(&output);
    assert_eq!(report["doctor"]["ready"], false);
    assert_eq!(report["doctor"]["missing"], serde_json::json!(["sqlx-cli"]));
    assert_eq!(
        report["doctor"]["warnings"],
        serde_json::json!(["jq (optional)"])
    );

    // A dry run with --json keeps stderr for warnings: a missing tool is one.
    let output = medforge_with_path(
        work.path(),
        &lacking,
        &["new", "dry", "--yes", "--dry-run", "--json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "doctor: missing sqlx-cli, jq (optional) — run `medforge doctor`\n"
    );
}

/// The prompts, on a real pseudo-terminal.
#[cfg(target_os = "linux")]
mod terminal {
    use super::*;

    /// medforge on a pseudo-terminal (util-linux `script` allocates it), driven key by key the
    /// way a person at a terminal would.
    struct Tty {
        child: std::process::Child,
        stdin: std::process::ChildStdin,
        output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        /// How much of the (escape-free) screen output earlier `expect`s consumed.
        seen: usize,
    }

    impl Tty {
        fn start(cwd: &Path, args: &[&str]) -> Tty {
            use std::io::Read;
            let command = format!(
                "stty cols 200 rows 50; exec {} {}",
                crate::support::BIN,
                args.join(" ")
            );
            let mut child = std::process::Command::new("script")
                .args(["-qfec", &command, "/dev/null"])
                .current_dir(cwd)
                .env("TERM", "xterm-256color")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("util-linux `script` runs (it gives medforge a terminal)");
            let stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = output.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stdout.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            });
            Tty {
                child,
                stdin,
                output,
                seen: 0,
            }
        }

        /// The output so far, without terminal escape sequences.
        fn screen(&self) -> String {
            let raw = String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned();
            let mut text = String::new();
            let mut chars = raw.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    if chars.next_if_eq(&'[').is_some() {
                        // A control sequence ends with a byte in @..~.
                        for c in chars.by_ref() {
                            if ('@'..='~').contains(&c) {
                                break;
                            }
                        }
                    }
                } else {
                    text.push(c);
                }
            }
            text
        }

        /// Waits until `text` appears after what earlier calls saw.
        fn expect(&mut self, text: &str) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let screen = self.screen();
                if let Some(at) = screen[self.seen.min(screen.len())..].find(text) {
                    self.seen += at + text.len();
                    return;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "`{text}` never appeared; the terminal showed:\n{screen}"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }

        /// Types `keys` (a prompt has just been drawn: give it a moment to read the keyboard).
        fn send(&mut self, keys: &str) {
            use std::io::Write;
            std::thread::sleep(std::time::Duration::from_millis(150));
            self.stdin.write_all(keys.as_bytes()).unwrap();
            self.stdin.flush().unwrap();
        }

        /// medforge's exit code, and everything it showed.
        fn finish(mut self) -> (i32, String) {
            let status = self.child.wait().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
            (status.code().unwrap_or(-1), self.screen())
        }
    }

    const ENTER: &str = "\r";
    const CTRL_C: &str = "\u{3}";
    const ESC: &str = "\u{1b}";
    const BACKSPACE: &str = "\u{7f}";

    #[test]
    fn ctrl_c_or_esc_at_a_prompt_exits_130_and_leaves_nothing() {
        let work = tempfile::tempdir().unwrap();
        let mut tty = Tty::start(work.path(), &["new"]);
        tty.expect("Project name");
        tty.send("clinic");
        tty.send(CTRL_C);
        let (code, screen) = tty.finish();
        assert_eq!(code, 130, "{screen}");
        assert!(
            screen.contains("error: cancelled at the prompt; nothing was written"),
            "{screen}"
        );

        let mut tty = Tty::start(work.path(), &["new", "clinic"]);
        tty.expect("Privacy regime");
        tty.send(ESC);
        let (code, screen) = tty.finish();
        assert_eq!(code, 130, "{screen}");
        assert!(
            entries(work.path()).is_empty(),
            "{:?}",
            entries(work.path())
        );
    }

    #[test]
    fn the_terminal_walkthrough_asks_again_shows_key_hints_and_confirms_before_writing() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir(work.path().join("taken")).unwrap();
        std::fs::write(work.path().join("taken/notes.txt"), "mine").unwrap();

        let mut tty = Tty::start(work.path(), &["new"]);
        tty.expect("Project name");
        // A name whose directory holds files is asked for again, not refused at the end.
        tty.send(&format!("taken{ENTER}"));
        tty.expect("exists and holds files; type another name");
        tty.send(&format!("{}fresh{ENTER}", BACKSPACE.repeat(5)));
        for prompt in [
            "Privacy regime",
            "Tenancy",
            "Multi-factor authentication",
            "Idle session timeout",
            "Absolute session lifetime",
        ] {
            tty.expect(prompt);
            tty.send(ENTER);
        }
        tty.expect("Clinical modules");
        // inquire's key hints stay in view next to the option's help.
        tty.expect("space to select one");
        tty.send(ENTER);
        for prompt in [
            "TLS termination",
            "Key-encryption key provider",
            "AI coding tools",
        ] {
            tty.expect(prompt);
            tty.send(ENTER);
        }
        tty.expect("Data residency region");
        tty.send(&format!("Europe{ENTER}"));
        tty.expect("is not a region label such as ch, eu, us or eu-west");
        tty.send(&format!("{}{ENTER}", BACKSPACE.repeat(6)));
        tty.expect("Web interface for clinic staff");
        tty.send(ENTER);
        // The summary comes before anything is written.
        tty.expect("medforge will create `fresh`");
        tty.expect("data_residency          ch");
        tty.expect("Create it?");
        assert!(
            !work.path().join("fresh").exists(),
            "written before confirming"
        );
        tty.send(&format!("y{ENTER}"));
        let (code, screen) = tty.finish();
        assert_eq!(code, 0, "{screen}");
        assert!(work.path().join("fresh/Cargo.toml").is_file(), "{screen}");
        assert_eq!(entries(&work.path().join("taken")), ["notes.txt"]);
    }

    #[test]
    fn declining_the_summary_writes_nothing() {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("answers.toml"), "regime = \"hipaa\"\n").unwrap();
        let mut tty = Tty::start(work.path(), &["new", "clinic", "--answers", "answers.toml"]);
        // Only what the answers file left open is asked.
        for prompt in [
            "Tenancy",
            "Multi-factor authentication",
            "Idle session timeout",
            "Absolute session lifetime",
            "Clinical modules",
            "TLS termination",
            "Key-encryption key provider",
            "AI coding tools",
            "Data residency region",
            "Web interface for clinic staff",
        ] {
            tty.expect(prompt);
            tty.send(ENTER);
        }
        tty.expect("regime                  hipaa");
        tty.expect("Create it?");
        tty.send(&format!("n{ENTER}"));
        let (code, screen) = tty.finish();
        assert_eq!(code, 1, "{screen}");
        assert!(
            screen.contains("not confirmed, so nothing was written"),
            "{screen}"
        );
        assert_eq!(entries(work.path()), ["answers.toml"]);
    }
}

/// The root README, whose commands a newcomer copies verbatim.
fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn the_readme_usage_block_lists_every_command() {
    let readme = readme();
    let usage = readme
        .split("## Using it")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("README has a usage block under `## Using it`");
    for command in medforge::cli::command().get_subcommands() {
        let line = format!("medforge {}", command.get_name());
        assert!(
            usage.lines().any(|l| l.starts_with(&line)),
            "the README's usage block lacks `{line}`:\n{usage}"
        );
    }
}

#[test]
fn the_readme_generates_outside_the_clone_and_leaves_it_clean() {
    let readme = readme();
    let install = "cargo install --locked --path . && ";
    let line = readme
        .lines()
        .find(|line| line.starts_with(install))
        .expect("README installs with `cargo install --locked --path .`");
    let args: Vec<&str> = line[install.len()..].split_whitespace().collect();
    assert_eq!(args[0], "medforge", "{line}");

    // A clone: a git checkout with one commit, where the README's command runs.
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("medforge");
    std::fs::create_dir(&clone).unwrap();
    std::fs::write(clone.join("README.md"), "clone\n").unwrap();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.invalid",
            ])
            .args(args)
            .current_dir(&clone)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
        stdout(&output)
    };
    git(&["init", "-q"]);
    git(&["add", "README.md"]);
    git(&["commit", "-q", "-m", "clone"]);

    let output = medforge(&clone, &args[1..]);
    assert_eq!(code(&output), 0, "{line}: {}", stderr(&output));
    assert_eq!(git(&["status", "--porcelain", "--ignored"]), "", "{line}");
    assert!(
        work.path().join("clinic-portal/Cargo.toml").is_file(),
        "{line}"
    );
}
