//! The command line: flag definitions (with their help) and the hand-off to the library.
//! Human messages go to stderr; with `--json`, stdout carries exactly one JSON document.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::Serialize;

use crate::check::CheckArgs;
use crate::doctor::{self, Diagnosis, DoctorArgs};
use crate::error::{Error, ExitStatus};
use crate::generate::{self, NewArgs, NewReport, Prompter};
use crate::options::{Kind, OPTIONS};
use crate::prompt;
use crate::template::TemplateSource;
use crate::update::UpdateArgs;

#[derive(Debug, Parser)]
#[command(
    name = "medforge",
    version,
    about = "Secure-by-default scaffolding for healthcare services in Rust",
    long_about = "medforge generates a complete Rust web service that handles patient data (PHI) \
                  safely from its first commit: server-side authentication, PostgreSQL \
                  row-level security, encryption, an audit trail, synthetic-only test data, \
                  AI-tool deny-lists and compile-time PHI guardrails.\n\n\
                  Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input, 3 `update` \
                  finished with conflicts, 4 `check` found violations, 130 cancelled at a \
                  prompt (Ctrl-C or Esc)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a new service project.
    ///
    /// On a terminal, medforge asks for every option not given. Without a terminal it
    /// never asks: pass --yes to accept the secure defaults for the rest, or it exits 2
    /// naming what is missing.
    New(NewCommand),
    /// List every option `new` accepts: key, type, choices, default and help.
    Options(OptionsCommand),
    /// Manage a generated project's database through sqlx-cli.
    ///
    /// Migrations run as the owner role: set MIGRATION_DATABASE_URL (or DATABASE_URL).
    /// Needs sqlx-cli 0.9.0 and a PostgreSQL server: `medforge doctor` says what is
    /// missing and how to install it.
    Db(DbCommand),
    /// Add to a generated project: `medforge add resource NAME --field ...`.
    Add(AddCommand),
    /// Bring template improvements into a generated project, keeping local edits.
    ///
    /// Re-renders the template with the recorded answers (changed by --set) and merges it
    /// three ways: base = .medforge/base (what was generated), ours = the project now,
    /// theirs = the new render. Where both changed the same lines the file gets conflict
    /// markers and medforge exits 3. A git project must be clean (or --allow-dirty).
    Update(UpdateCommand),
    /// Verify that a generated project still has its security controls.
    ///
    /// Guardrails, row-level security, roles, AI deny-lists, timeouts, TLS, raw extractors
    /// and printing macros, real-looking identifiers in fixtures, vendor agreements. Exits 4
    /// when anything is found.
    Check(CheckCommand),
    /// Check that this machine has what a generated project needs, with install lines.
    ///
    /// Rust at the project's rust-version, PostgreSQL's initdb, pg_ctl and psql, the pinned
    /// sqlx-cli, git, and jq (optional: only the README walkthrough uses it). Exits 2 when
    /// something required is missing.
    Doctor(DoctorCommand),
    /// Print a shell completion script on stdout.
    ///
    /// bash: `medforge completions bash > ~/.local/share/bash-completion/completions/medforge`;
    /// zsh: into a directory on $fpath as `_medforge`; fish:
    /// `~/.config/fish/completions/medforge.fish`.
    Completions(CompletionsCommand),
}

#[derive(Debug, Args)]
pub struct AddCommand {
    #[command(subcommand)]
    pub what: AddWhat,
}

#[derive(Debug, Subcommand)]
pub enum AddWhat {
    /// A clinical resource with every control the built-in ones have.
    ///
    /// A migration after the highest one (row-level security enabled and forced, PHI
    /// columns sealed), the model, the routes, the access-matrix entry, OpenAPI schemas,
    /// synthetic seed rows, the compliance docs and tests named after the threats; then the
    /// .sqlx query data, refreshed on a throwaway PostgreSQL cluster so the project builds
    /// offline at once. On a terminal medforge asks for what the flags leave open; without
    /// one, --field is required and the rest takes its secure default. Recorded in
    /// .medforge/answers.toml, so `medforge update` keeps the resource up to date.
    Resource(ResourceCommand),
}

#[derive(Debug, Args)]
pub struct ResourceCommand {
    /// The resource, plural and lowercase with `_` between words: its table and URL
    /// (e.g. `prescriptions`).
    pub name: Option<String>,
    /// A field: `NAME:TYPE`, then `:phi` (sealed; the default for text) or `:plain`, and
    /// `:required`. Types: text, date, datetime, integer, decimal, boolean, code.
    /// Repeatable, in order.
    #[arg(long = "field", value_name = "NAME:TYPE[:phi][:required]")]
    pub fields: Vec<String>,
    /// The values of a code field: `a,b,c` (the code fields in order) or `FIELD=a,b,c`.
    #[arg(long = "values", value_name = "[FIELD=]A,B,...")]
    pub values: Vec<String>,
    /// Each record is about one patient, and is hidden with a restricted patient.
    #[arg(long, value_enum, value_name = "patient|none")]
    pub belongs_to: Option<BelongsTo>,
    /// Who may do what, e.g. `read=clinician+staff,delete=admin` [default: the minimum
    /// necessary: read=clinician,create=clinician,update=clinician,delete=admin].
    #[arg(long, value_name = "ACTION=ROLE[+ROLE],...")]
    pub roles: Vec<String>,
    /// The generated project [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Render from a team's own cargo-generate template directory (its
    /// resource-templates/) instead of the built-in one.
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// Never prompt: what the flags leave open takes its secure default.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print one JSON document on stdout (files, steps, next steps).
    #[arg(long)]
    pub json: bool,
    /// Print the diff of what would change, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the resource without refreshing .sqlx (no PostgreSQL here): run `medforge db
    /// prepare` before the project builds offline.
    #[arg(long)]
    pub skip_prepare: bool,
}

/// What `--belongs-to` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BelongsTo {
    /// Each record is about one patient.
    Patient,
    /// The records are the clinic's, about no patient.
    None,
}

#[derive(Debug, Args)]
pub struct DoctorCommand {
    /// A generated project, whose Cargo.toml sets the Rust version [default: the current
    /// directory when it is one, else the template's].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsCommand {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct UpdateCommand {
    /// The generated project [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Change an answer during the update, e.g. `--set modules=patients,notes`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Render a team's own cargo-generate template directory instead of the built-in one.
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// Print one JSON document on stdout (per-file actions and conflicts).
    #[arg(long)]
    pub json: bool,
    /// Print the unified diff of what would change, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Update even though the project's git working tree has uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
}

#[derive(Debug, Args)]
pub struct CheckCommand {
    /// The generated project [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long, conflicts_with = "sarif")]
    pub json: bool,
    /// Print a SARIF 2.1.0 log on stdout, for code-scanning services.
    #[arg(long)]
    pub sarif: bool,
}

#[derive(Debug, Args)]
pub struct DbCommand {
    /// What to do.
    #[arg(value_enum)]
    pub task: crate::db::DbTask,
    /// The generated project [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NewCommand {
    /// Project name: lowercase letters, digits, `-` and `_`; it becomes the crate name.
    pub name: Option<String>,
    /// Directory to create the project in [default: ./NAME].
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Set an option, e.g. `--set tenancy=single` or `--set modules=patients,notes`.
    /// Repeatable; overrides the answers file. See `medforge options`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Read options from a TOML file of `key = value` lines (or another project's
    /// `.medforge/answers.toml`).
    #[arg(long = "answers", value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Never prompt: options not given take their secure defaults.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print one JSON document on stdout (files written, answers, next steps).
    #[arg(long)]
    pub json: bool,
    /// Show what would be generated, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write into a non-empty directory (files with the same names are replaced).
    #[arg(long)]
    pub force: bool,
    /// Render a team's own cargo-generate template directory instead of the built-in one.
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OptionsCommand {
    /// Print the options as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The whole command line for `main`: parse, run, and the exit status. A bug still ends
/// in one sentence (the panic hook prints it) and exit 1, and with `--json` in one document.
pub fn main() -> ExitStatus {
    let json = wants_json(std::env::args_os());
    let cli = match parse() {
        Ok(cli) => cli,
        Err(status) => return status,
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(status) => status,
        Err(_) => {
            if json {
                print_failure(&Failure::new(
                    ExitStatus::Failure,
                    "medforge hit an internal bug; please report it",
                ));
            }
            ExitStatus::Failure
        }
    }
}

/// The command line's definition, with the option table appended to `new --help` and the
/// embedded template's version on the version line.
pub fn command() -> clap::Command {
    let template = crate::template::embedded_version().unwrap_or_else(|| "unknown".to_owned());
    Cli::command()
        .version(format!(
            "{} (template {template})",
            env!("CARGO_PKG_VERSION")
        ))
        .mut_subcommand("new", |new| {
            new.after_long_help(options_summary())
                .after_help("Run `medforge new --help` for every option, or `medforge options`.")
        })
}

/// Parses the command line. A flag clap refuses gets clap's message on stderr and, when
/// `--json` was asked for, one JSON document on stdout too (SPEC §3): an agent that
/// mistyped a flag still reads its error where it reads every other one.
pub fn parse() -> Result<Cli, ExitStatus> {
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.map_err(|error| {
        let status = if error.exit_code() == 0 {
            ExitStatus::Ok
        } else {
            ExitStatus::Usage
        };
        if status != ExitStatus::Ok && wants_json(std::env::args_os()) {
            print_failure(&usage_failure(&error, std::env::args_os()));
        }
        // Help and --version print on stdout, errors on stderr; a closed pipe is no error.
        let _ = error.print();
        status
    })
}

/// Whether the arguments ask for JSON, before clap has understood them.
fn wants_json(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

/// A flag clap refused, as a JSON failure: clap's first line as the sentence, the
/// argument it refused, and what it would have accepted.
fn usage_failure(
    error: &clap::Error,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Failure {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let root = command();
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let subcommand = args
        .iter()
        .find_map(|arg| root.find_subcommand(arg))
        .cloned();
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error:")
        .trim();
    let help = match &subcommand {
        Some(sub) => format!("medforge {} --help", sub.get_name()),
        None => "medforge --help".to_owned(),
    };
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let option = text(ContextKind::InvalidArg)
        .or_else(|| text(ContextKind::InvalidSubcommand))
        // `--dir <PATH>`: the flag, without its value's name.
        .map(|arg| arg.split(' ').next().unwrap_or_default().to_owned());
    let flags = |cmd: &clap::Command| -> Vec<String> {
        cmd.get_arguments()
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect()
    };
    let allowed = match (error.get(ContextKind::ValidValue), error.kind()) {
        (Some(ContextValue::Strings(values)), _) => Some(values.clone()),
        (_, ErrorKind::InvalidSubcommand) => {
            let mut subcommands: Vec<&clap::Command> = root.get_subcommands().collect();
            subcommands.sort_by_key(|sub| sub.get_display_order());
            Some(
                subcommands
                    .iter()
                    .map(|sub| sub.get_name().to_owned())
                    .collect(),
            )
        }
        (_, ErrorKind::UnknownArgument) => Some(flags(subcommand.as_ref().unwrap_or(&root))),
        _ => None,
    }
    .filter(|allowed| !allowed.is_empty());
    Failure {
        option,
        allowed,
        ..Failure::new(ExitStatus::Usage, &format!("{first}; see `{help}`"))
    }
}

/// Runs the command and returns its exit status; everything printed happens here.
pub fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::New(command) => {
            let json = command.json;
            finish(json, new(command))
        }
        Command::Add(AddCommand {
            what: AddWhat::Resource(command),
        }) => add_resource(command),
        Command::Update(command) => update(command),
        Command::Check(command) => check(command),
        Command::Db(command) => match crate::db::run(command.task, command.dir.as_deref()) {
            Ok(()) => ExitStatus::Ok,
            Err(error) => report_error(false, &error),
        },
        Command::Doctor(command) => doctor(command),
        Command::Completions(completions) => {
            let mut cli = command();
            let name = cli.get_name().to_owned();
            // Into memory first: clap_complete panics on a write error, and a closed pipe
            // (`medforge completions bash | head`) is no error worth a message.
            let mut script = Vec::new();
            clap_complete::generate(completions.shell, &mut cli, name, &mut script);
            let _ = std::io::stdout().lock().write_all(&script);
            ExitStatus::Ok
        }
        Command::Options(command) => {
            let mut stdout = std::io::stdout().lock();
            let written = if command.json {
                writeln!(stdout, "{}", to_json(&OPTIONS))
            } else {
                write!(stdout, "{}", options_summary())
            };
            // A closed pipe (`medforge options | head`) is not an error worth a message.
            let _ = written;
            ExitStatus::Ok
        }
    }
}

fn new(command: NewCommand) -> Result<NewReport, Error> {
    let args = NewArgs {
        name: command.name,
        dir: command.dir,
        set: command.set,
        answers_file: command.answers,
        yes: command.yes,
        dry_run: command.dry_run,
        force: command.force,
        template: command
            .template
            .map_or(TemplateSource::Embedded, TemplateSource::Directory),
    };
    let mut terminal = prompt::Terminal;
    // Prompts need a person at a terminal on both ends; --yes means "do not ask".
    let interactive =
        !args.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let prompter: Option<&mut dyn Prompter> = if interactive {
        Some(&mut terminal)
    } else {
        None
    };
    generate::new_project(&args, prompter)
}

fn add_resource(command: ResourceCommand) -> ExitStatus {
    let args = crate::add::AddArgs {
        name: command.name,
        fields: command.fields,
        values: command.values,
        belongs_to_patient: command.belongs_to.map(|b| b == BelongsTo::Patient),
        roles: command.roles,
        dir: command.dir,
        template: command
            .template
            .map_or(TemplateSource::Embedded, TemplateSource::Directory),
        dry_run: command.dry_run,
        skip_prepare: command.skip_prepare,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut prompts = prompt::Terminal;
    let prompter: Option<&mut dyn crate::add::AddPrompter> = if terminal && !command.yes {
        Some(&mut prompts)
    } else {
        None
    };
    let mut steps = crate::steps::Steps::new(std::io::stderr().is_terminal() && !command.json);
    let report = match crate::add::add_resource(&args, prompter, &mut steps) {
        Ok(report) => report,
        Err(error) => return report_error(command.json, &error),
    };
    if command.json {
        println!("{}", to_json(&Outcome::new("ok", ExitStatus::Ok, &report)));
    } else if report.dry_run {
        let mut stdout = std::io::stdout().lock();
        for diff in report.files.iter().filter_map(|f| f.diff.as_deref()) {
            let _ = write!(stdout, "{diff}");
        }
    }
    if !(command.json && report.dry_run) {
        eprint!("{}", crate::add::human_summary(&report));
    }
    ExitStatus::Ok
}

fn update(command: UpdateCommand) -> ExitStatus {
    let args = UpdateArgs {
        dir: command.dir,
        set: command.set,
        template: command
            .template
            .map_or(TemplateSource::Embedded, TemplateSource::Directory),
        dry_run: command.dry_run,
        allow_dirty: command.allow_dirty,
    };
    let report = match crate::update::update(&args) {
        Ok(report) => report,
        Err(error) => return report_error(command.json, &error),
    };
    let (status, word) = if report.has_conflicts() {
        (ExitStatus::Conflicts, "conflicts")
    } else {
        (ExitStatus::Ok, "ok")
    };
    if command.json {
        println!("{}", to_json(&Outcome::new(word, status, &report)));
    } else if report.dry_run {
        let mut stdout = std::io::stdout().lock();
        for diff in report.files.iter().filter_map(|f| f.diff.as_deref()) {
            let _ = write!(stdout, "{diff}");
        }
    }
    // As for `new`: a dry run's JSON says everything, and stderr stays for warnings.
    if !(command.json && report.dry_run) {
        eprint!("{}", crate::update::human_summary(&report));
    }
    status
}

fn check(command: CheckCommand) -> ExitStatus {
    let args = CheckArgs { dir: command.dir };
    let report = match crate::check::check(&args) {
        Ok(report) => report,
        Err(error) => return report_error(command.json, &error),
    };
    let (status, word) = if report.passed() {
        (ExitStatus::Ok, "ok")
    } else {
        (ExitStatus::Violations, "violations")
    };
    let mut stdout = std::io::stdout().lock();
    let _ = if command.sarif {
        writeln!(stdout, "{}", to_json(&crate::sarif::to_sarif(&report)))
    } else if command.json {
        writeln!(stdout, "{}", to_json(&Outcome::new(word, status, &report)))
    } else {
        write!(stdout, "{}", report.human())
    };
    if command.sarif || command.json {
        eprint!("{}", last_line(&report.human()));
    }
    status
}

fn doctor(command: DoctorCommand) -> ExitStatus {
    let args = DoctorArgs { dir: command.dir };
    let diagnosis = match doctor::diagnose(&args) {
        Ok(diagnosis) => diagnosis,
        Err(error) => return report_error(command.json, &error),
    };
    let (status, word) = if diagnosis.ready() {
        (ExitStatus::Ok, "ok")
    } else {
        (ExitStatus::Usage, "missing")
    };
    let human = diagnosis.human();
    if command.json {
        let document = DoctorDocument {
            error: diagnosis.error(),
            diagnosis: &diagnosis,
        };
        println!("{}", to_json(&Outcome::new(word, status, &document)));
        eprint!("{}", last_line(&human));
    } else {
        print!("{human}");
    }
    status
}

#[derive(Serialize)]
struct DoctorDocument<'a> {
    /// Set when something required is missing: `doctor` failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
}

/// The last line of a human report, for stderr beside a JSON document.
fn last_line(report: &str) -> String {
    report
        .lines()
        .last()
        .map(|line| format!("{line}\n"))
        .unwrap_or_default()
}

/// A finished command's JSON document: its status word, exit code and report.
#[derive(Serialize)]
struct Outcome<'a, T: Serialize> {
    status: &'static str,
    exit_code: u8,
    #[serde(flatten)]
    report: &'a T,
}

impl<'a, T: Serialize> Outcome<'a, T> {
    fn new(status: &'static str, exit: ExitStatus, report: &'a T) -> Self {
        Outcome {
            status,
            exit_code: exit.code(),
            report,
        }
    }
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    status: &'static str,
    #[serde(flatten)]
    report: &'a T,
    /// What `medforge doctor` would report for the new project.
    #[serde(skip_serializing_if = "Option::is_none")]
    doctor: Option<DoctorSummary>,
}

#[derive(Serialize)]
struct DoctorSummary {
    /// Everything required is installed.
    ready: bool,
    /// Required tools missing or at the wrong version.
    missing: Vec<String>,
    /// Optional tools missing.
    warnings: Vec<String>,
}

/// A failed command's JSON document: the sentence, the exit code, and where it applies
/// the option at fault and the values it accepts.
#[derive(Serialize)]
struct Failure {
    status: &'static str,
    exit_code: u8,
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    option: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<Vec<String>>,
}

impl Failure {
    fn new(status: ExitStatus, error: &str) -> Failure {
        Failure {
            status: "error",
            exit_code: status.code(),
            error: error.to_owned(),
            option: None,
            allowed: None,
        }
    }
}

fn print_failure(failure: &Failure) {
    println!("{}", to_json(failure));
}

fn finish(json: bool, outcome: Result<NewReport, Error>) -> ExitStatus {
    match outcome {
        Ok(report) => {
            // What the new project needs from this machine (the template's needs for a dry
            // run); a diagnosis that cannot be made is no reason to fail a finished `new`.
            let project = (!report.dry_run).then_some(report.path.as_path());
            let diagnosis = doctor::diagnose_project(project).ok();
            if json {
                let doctor = diagnosis.as_ref().map(|d| DoctorSummary {
                    ready: d.ready(),
                    missing: d.missing(),
                    warnings: d.warnings(),
                });
                println!(
                    "{}",
                    to_json(&Success {
                        status: "ok",
                        report: &report,
                        doctor,
                    })
                );
            }
            // The JSON already lists every file a dry run would write; the human list on
            // stderr would only bury a warning, and a missing tool is one.
            let quiet = json && report.dry_run;
            if !quiet {
                eprint!("{}", human_summary(&report));
            }
            if let Some(diagnosis) = diagnosis
                && !(quiet && diagnosis.complete())
            {
                eprintln!("{}", diagnosis.one_line());
            }
            ExitStatus::Ok
        }
        Err(error) => report_error(json, &error),
    }
}

/// One sentence on stderr, and with `--json` the same as a JSON document on stdout.
fn report_error(json: bool, error: &Error) -> ExitStatus {
    let status = error.exit_status();
    let message = error.to_string();
    if json {
        print_failure(&Failure {
            option: error.option().map(str::to_owned),
            allowed: error.allowed(),
            ..Failure::new(status, &message)
        });
    }
    eprintln!("error: {message}");
    status
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("medforge's reports serialize to JSON")
}

fn human_summary(report: &NewReport) -> String {
    let mut out = String::new();
    let verb = if report.dry_run {
        "Would create"
    } else {
        "Created"
    };
    out.push_str(&format!(
        "{verb} `{}` in {} ({} files, template {}, medforge {})\n",
        report.name,
        report.path.display(),
        report.files.len(),
        report.template_version,
        report.generator_version,
    ));
    if report.dry_run {
        for file in &report.files {
            out.push_str(&format!("  {file}\n"));
        }
        out.push_str("Nothing was written (--dry-run).\n");
    } else {
        out.push_str("Answers recorded in .medforge/answers.toml.\nNext steps:\n");
        for step in &report.next_steps {
            out.push_str(&format!("  {step}\n"));
        }
    }
    out
}

/// The option table as help text: one block per option.
pub fn options_summary() -> String {
    let mut out = String::from("Options (set with --set KEY=VALUE or in an --answers file):\n");
    for spec in OPTIONS {
        let values = match spec.kind {
            Kind::Choice { choices } => format!("one of {}", choices.join(" | ")),
            Kind::MultiChoice { choices, .. } => {
                format!("comma-separated subset of {}", choices.join(", "))
            }
            Kind::Integer { min, max } => format!("whole number {min}..={max}"),
            Kind::Text { expected, .. } => (*expected).to_owned(),
        };
        let default = crate::answers::Value::default_for(spec).to_flag_text();
        out.push_str(&format!(
            "\n  {}  ({values}; default: {default})\n      {}\n",
            spec.key, spec.help
        ));
    }
    out
}
