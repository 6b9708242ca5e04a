//! `medforge add resource`: a clinical resource with every control the built-in ones have
//! (SPEC 4.6), rendered from the resource templates inside the service template.
//!
//! 1. The resource is settled: flags, then the prompts on a terminal, then the secure
//!    defaults ([`spec`]); a bad name, type or role is refused before anything is rendered.
//! 2. Everything that changes is computed in memory: the resource's files (a migration
//!    after the highest one, the model, the routes, the tests), the regions of the shared
//!    files that list every resource (modules, the access matrix, seeds, OpenAPI tests,
//!    controls.md), the PHI inventory, and the same in `.medforge/base/` ([`render`]).
//! 3. Unless `--dry-run` (which prints the diff) or `--skip-prepare`, a copy of the project
//!    with the changes is migrated on a throwaway PostgreSQL cluster and its `.sqlx` query
//!    data refreshed with `cargo sqlx prepare` ([`crate::prepare`]), so the project builds
//!    offline at once.
//! 4. Only then is the project written, each file through a temporary file and a rename,
//!    the record (`.medforge/answers.toml`) last: a failure before leaves it unchanged.

mod prompt;
pub mod regions;
pub mod render;
pub mod spec;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::fs::{self, read_optional, read_optional_text, write_atomic};
use crate::inventory::{self, INVENTORY_FILE};
use crate::merge;
use crate::record::{self, Record};
use crate::schema::{MIGRATIONS_DIR, Schema, is_up_migration, sql_paths};
use crate::steps::{StepReport, Steps};
use crate::template::{Template, TemplateSource};

use render::{Context, Recorded, ResourceTemplates};
use spec::{FieldFlag, FieldSpec, ResourceSpec, Roles};

/// Everything `medforge add resource` needs: the CLI fills it from flags, tests directly.
#[derive(Debug, Clone, Default)]
pub struct AddArgs {
    pub name: Option<String>,
    /// `--field NAME:TYPE[:phi|:plain][:required]`, in order.
    pub fields: Vec<String>,
    /// `--values a,b` or `--values FIELD=a,b`, for the code fields.
    pub values: Vec<String>,
    /// `--belongs-to patient` (`Some(true)`) or `none` (`Some(false)`).
    pub belongs_to_patient: Option<bool>,
    /// `--roles read=clinician+staff,...`.
    pub roles: Vec<String>,
    pub dir: Option<PathBuf>,
    pub template: TemplateSource,
    pub dry_run: bool,
    /// Write the resource without refreshing `.sqlx` (`medforge db prepare` does it later).
    pub skip_prepare: bool,
}

/// Asks the person at the terminal for what the flags left open. The terminal
/// implementation is [`crate::prompt::Terminal`].
pub trait AddPrompter {
    /// A resource name that passes `check`.
    fn name(&mut self, check: &dyn Fn(&str) -> Result<()>) -> Result<String>;
    /// Fields, one `NAME:TYPE[:phi][:required]` at a time, until an empty answer.
    fn fields(&mut self) -> Result<Vec<FieldFlag>>;
    /// Which of `fields` hold PHI, starting from `defaults`.
    fn phi(&mut self, fields: &[String], defaults: &[bool]) -> Result<Vec<bool>>;
    /// The values of code field `field`.
    fn values(&mut self, field: &str) -> Result<Vec<String>>;
    fn belongs_to_patient(&mut self, resource: &str) -> Result<bool>;
    /// Who may read, create, update and delete; `defaults` is the minimum necessary.
    fn roles(&mut self, resource: &str, defaults: &Roles) -> Result<Roles>;
    /// Shows what is about to be added, and asks whether to go on.
    fn confirm(&mut self, summary: &str, dry_run: bool) -> Result<bool>;
}

/// What happened to one project file.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Relative to the project, `/`-separated.
    pub path: String,
    /// `added`, `changed` or `removed`.
    pub action: &'static str,
    /// With `--dry-run`: the unified diff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// What became of the `.sqlx` query data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryData {
    /// Refreshed on a throwaway cluster: the project builds offline.
    Refreshed,
    /// `--skip-prepare`: `medforge db prepare` must refresh it before an offline build.
    Skipped,
    /// `--dry-run`: it would be refreshed.
    WouldRefresh,
}

/// What `medforge add resource` did (or would do), for the human summary and `--json`.
#[derive(Debug, Serialize)]
pub struct AddReport {
    pub path: PathBuf,
    pub dry_run: bool,
    pub resource: ResourceSpec,
    /// The migration that creates its table.
    pub migration: String,
    /// The command that adds the same resource without prompts.
    pub command: String,
    /// Project files written (or that would be), sorted; `.medforge/` is not listed.
    pub files: Vec<FileChange>,
    pub query_data: QueryData,
    pub steps: Vec<StepReport>,
    pub next_steps: Vec<String>,
}

/// The resources recorded in the project's `.medforge/answers.toml`.
pub fn recorded(record: &Record) -> Result<Vec<Recorded>> {
    let where_ = record.path.display().to_string();
    record
        .resources
        .iter()
        .map(|entry| {
            ResourceSpec::from_toml(entry, &where_)
                .map(|(spec, migration)| Recorded { spec, migration })
        })
        .collect()
}

/// For `medforge update`: renders every recorded resource of `record` into the fresh render
/// at `root` (its files and the regions of the shared files), so the three-way merge
/// carries template changes into them and keeps local edits.
pub fn render_recorded(
    template: &Template,
    record: &Record,
    answers: &Answers,
    root: &Path,
) -> Result<()> {
    let resources = recorded(record)?;
    if resources.is_empty() {
        return Ok(());
    }
    let templates = ResourceTemplates::open(template.dir())?;
    let context = Context::new(&record.project_name, answers, root)?;
    let mut files = std::collections::BTreeMap::new();
    for resource in &resources {
        files.extend(templates.files(&context, resource)?);
    }
    files.extend(templates.regions(&context, &resources, &|file| {
        read_optional_text(&root.join(file))
    })?);
    for (path, text) in files {
        let target = root.join(&path);
        fs::create_parent(&target)?;
        fs::write_file(&target, text.as_bytes())?;
    }
    inventory::fill_file(root, &answers.policy().data_residency)
}

/// A file's new content, and what it holds now.
struct Change {
    path: String,
    old: Option<Vec<u8>>,
    new: Vec<u8>,
}

impl Change {
    fn action(&self) -> &'static str {
        if self.old.is_some() {
            "changed"
        } else {
            "added"
        }
    }
}

pub fn add_resource(
    args: &AddArgs,
    prompter: Option<&mut dyn AddPrompter>,
    steps: &mut Steps,
) -> Result<AddReport> {
    let project = record::project_dir(args.dir.as_deref())?;
    let record = Record::read(&project)?;
    if record.template_origin == crate::template::ORIGIN_TEAM
        && matches!(args.template, TemplateSource::Embedded)
    {
        return Err(Error::TeamTemplateRequired(project));
    }
    let answers = record.answers()?;
    let existing = recorded(&record)?;
    // Before any question: a missing tool is said at once, not after the answers.
    if !args.dry_run && !args.skip_prepare {
        crate::prepare::tools()?;
    }
    let spec = settle(args, prompter, &project, &existing)?;

    let template = args.template.open()?;
    let templates = ResourceTemplates::open(template.dir())?;
    let migration = format!(
        "{MIGRATIONS_DIR}/{}_{}.sql",
        crate::schema::next_version(&project, &project)?,
        spec.name
    );
    let new = Recorded {
        spec: spec.clone(),
        migration: migration.clone(),
    };
    let mut all = existing.clone();
    all.push(new.clone());
    let context = Context::new(&record.project_name, &answers, &project)?;
    let residency = answers.policy().data_residency;

    let (changes, base_changes) = steps.run("render", "Rendering the resource", || {
        let changes = plan(&project, &templates, &context, &all, &new, &residency)?;
        let base = record::base_dir(&project);
        let base_changes = if base.is_dir() {
            plan(&base, &templates, &context, &all, &new, &residency)?
        } else {
            Vec::new()
        };
        Ok((changes, base_changes))
    })?;

    let mut entries = record.resources.clone();
    entries.push(spec.to_toml(&migration));
    let stamp = record::TemplateStamp {
        version: &record.template_version,
        origin: &record.template_origin,
    };
    let record_text = record::text(&record.project_name, &stamp, &answers, &entries);

    let mut files: Vec<FileChange> = changes
        .iter()
        .map(|change| FileChange {
            path: change.path.clone(),
            action: change.action(),
            diff: args.dry_run.then(|| {
                merge::unified_diff(&change.path, change.old.as_deref(), Some(&change.new))
            }),
        })
        .collect();

    let query_data = if args.dry_run {
        QueryData::WouldRefresh
    } else if args.skip_prepare {
        QueryData::Skipped
    } else {
        QueryData::Refreshed
    };
    if !args.dry_run {
        let sqlx_changes = if args.skip_prepare {
            Vec::new()
        } else {
            crate::prepare::refreshed_query_data(
                &project,
                &record.project_name,
                &changes
                    .iter()
                    .map(|c| (c.path.clone(), c.new.clone()))
                    .collect::<Vec<_>>(),
                steps,
            )?
        };
        for (path, content) in &sqlx_changes {
            files.push(FileChange {
                path: path.clone(),
                action: match content {
                    None => "removed",
                    Some(_) if project.join(path).is_file() => "changed",
                    Some(_) => "added",
                },
                diff: None,
            });
        }
        steps.run("write", "Writing the project", || {
            write(
                &project,
                &changes,
                &sqlx_changes,
                &base_changes,
                &record_text,
            )
        })?;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));

    Ok(AddReport {
        command: render::command(&spec),
        next_steps: next_steps(query_data),
        path: project,
        dry_run: args.dry_run,
        resource: spec,
        migration,
        files,
        query_data,
        steps: steps.reports().to_vec(),
    })
}

/// The resource from the flags, the prompts and the defaults, checked against the project.
fn settle(
    args: &AddArgs,
    mut prompter: Option<&mut dyn AddPrompter>,
    project: &Path,
    existing: &[Recorded],
) -> Result<ResourceSpec> {
    let check_name = |name: &str| -> Result<()> {
        spec::validate_name(name)?;
        check_free(project, name, existing)
    };
    // Without a terminal nothing is asked: say every missing flag at once.
    if prompter.is_none() {
        let mut missing = Vec::new();
        let mut flags = Vec::new();
        if args.name.is_none() {
            missing.push("the resource's name");
            flags.push("`medforge add resource NAME`");
        }
        if args.fields.is_empty() {
            missing.push("its fields");
            flags.push("--field NAME:TYPE[:phi][:required] (at least one)");
        }
        if !missing.is_empty() {
            return Err(Error::MissingResourceFlags {
                missing: missing.join(" and "),
                flags: flags.join(" and "),
            });
        }
    }
    let name = match (&args.name, prompter.as_deref_mut()) {
        (Some(name), _) => name.trim().to_owned(),
        (None, Some(prompter)) => prompter.name(&check_name)?,
        (None, None) => unreachable!("a missing name is refused above"),
    };
    check_name(&name)?;

    let mut flags = args
        .fields
        .iter()
        .map(|raw| FieldFlag::parse(raw))
        .collect::<Result<Vec<_>>>()?;
    if flags.is_empty()
        && let Some(prompter) = prompter.as_deref_mut()
    {
        flags = prompter.fields()?;
    }
    // PHI: what the flags say; what they leave open, asked or the secure default.
    let open: Vec<usize> = (0..flags.len())
        .filter(|&i| flags[i].phi.is_none())
        .collect();
    let mut phi: Vec<bool> = flags
        .iter()
        .map(|f| f.phi.unwrap_or(f.kind.phi_by_default()))
        .collect();
    if !open.is_empty()
        && let Some(prompter) = prompter.as_deref_mut()
    {
        let names: Vec<String> = flags.iter().map(|f| f.name.clone()).collect();
        phi = prompter.phi(&names, &phi)?;
    }
    let mut fields: Vec<FieldSpec> = flags
        .into_iter()
        .zip(phi)
        .map(|(flag, phi)| FieldSpec {
            name: flag.name,
            kind: flag.kind,
            phi,
            required: flag.required,
            values: Vec::new(),
        })
        .collect();
    spec::assign_values(&mut fields, &args.values)?;
    if let Some(prompter) = prompter.as_deref_mut() {
        for field in fields
            .iter_mut()
            .filter(|f| f.kind == spec::FieldType::Code && f.values.is_empty())
        {
            field.values = prompter.values(&field.name)?;
        }
    }
    let belongs_to_patient = match (args.belongs_to_patient, prompter.as_deref_mut()) {
        (Some(answer), _) => answer,
        (None, Some(prompter)) => prompter.belongs_to_patient(&name)?,
        // A resource is about a patient only when it says so: `patient_id` is a column
        // the flags must ask for.
        (None, None) => false,
    };
    let mut roles = Roles::parse(&args.roles)?;
    if args.roles.is_empty()
        && let Some(prompter) = prompter.as_deref_mut()
    {
        roles = prompter.roles(&name, &roles)?;
    }
    let spec = ResourceSpec {
        name,
        fields,
        belongs_to_patient,
        roles,
    };
    spec.validate()?;
    if let Some(prompter) = prompter
        && !prompter.confirm(&summary(&spec), args.dry_run)?
    {
        return Err(Error::NotConfirmed);
    }
    Ok(spec)
}

/// What is about to be added, for the terminal's confirm step.
pub fn summary(spec: &ResourceSpec) -> String {
    let mut out = format!(
        "medforge will add `{}`{}:\n",
        spec.name,
        if spec.belongs_to_patient {
            ", each record about one patient"
        } else {
            ""
        }
    );
    for field in &spec.fields {
        let mut notes = vec![field.kind.name().to_owned()];
        if field.phi {
            notes.push("PHI, sealed".to_owned());
        }
        if field.required {
            notes.push("required".to_owned());
        }
        if !field.values.is_empty() {
            notes.push(format!("one of {}", field.values.join(", ")));
        }
        out.push_str(&format!("  {}  ({})\n", field.name, notes.join("; ")));
    }
    out.push_str(&format!("  roles: {}\n", spec.roles.to_flag()));
    out
}

/// Refuses a name the project has taken: a recorded resource, a table of its migrations, or
/// a file the resource would write.
fn check_free(project: &Path, name: &str, existing: &[Recorded]) -> Result<()> {
    let taken = |reason: String| {
        Err(Error::InvalidResource {
            option: "name",
            message: format!("cannot add `{name}`: {reason}; choose another name"),
            allowed: None,
        })
    };
    let singular = spec::singular(name);
    if let Some(other) = existing
        .iter()
        .find(|r| r.spec.name == name || r.spec.singular() == singular)
    {
        return taken(format!(
            "the project has the resource `{}` already (.medforge/answers.toml)",
            other.spec.name
        ));
    }
    if let Some(table) = Schema::read(project)?
        .tables
        .into_iter()
        .find(|t| t.name == name)
    {
        return taken(format!(
            "{} creates a table `{name}` already",
            table.location.file
        ));
    }
    for path in [
        format!("src/models/{singular}.rs"),
        format!("src/routes/{name}.rs"),
        format!("tests/service/{name}.rs"),
        format!("src/web/{name}.rs"),
    ] {
        if project.join(&path).exists() {
            return taken(format!("{path} exists already"));
        }
    }
    Ok(())
}

/// Every change `new` brings to the tree at `root` (the project, or its base): its files,
/// the regions, the PHI inventory.
fn plan(
    root: &Path,
    templates: &ResourceTemplates,
    context: &Context,
    all: &[Recorded],
    new: &Recorded,
    residency: &str,
) -> Result<Vec<Change>> {
    let mut contents = templates.files(context, new)?;
    contents.extend(templates.regions(context, all, &|file| read_optional_text(&root.join(file)))?);
    // The inventory lists every PHI column of the migrations, the new one included.
    if let Some(doc) = read_optional_text(&root.join(INVENTORY_FILE))? {
        let mut sources = Vec::new();
        for path in sql_paths(root, MIGRATIONS_DIR)? {
            if is_up_migration(&path)
                && let Some(text) = read_optional_text(&root.join(&path))?
            {
                sources.push((path, text));
            }
        }
        if let Some(text) = contents.get(&new.migration) {
            sources.push((new.migration.clone(), text.clone()));
        }
        if let Some(filled) = inventory::fill(&doc, &Schema::from_sources(sources), residency) {
            contents.insert(INVENTORY_FILE.to_owned(), filled);
        }
    }
    let mut changes = Vec::new();
    for (path, text) in contents {
        let old = read_optional(&root.join(&path))?;
        if old.as_deref() == Some(text.as_bytes()) {
            continue;
        }
        changes.push(Change {
            path,
            old,
            new: text.into_bytes(),
        });
    }
    Ok(changes)
}

/// Writes the project: its files and query data, then the base, then the record and the
/// migration checksums.
fn write(
    project: &Path,
    changes: &[Change],
    sqlx_changes: &[(String, Option<Vec<u8>>)],
    base_changes: &[Change],
    record_text: &str,
) -> Result<()> {
    let put = |root: &Path, path: &str, content: &[u8]| -> Result<()> {
        let target = root.join(path);
        fs::create_parent(&target)?;
        write_atomic(&target, content, None)
    };
    for change in changes {
        put(project, &change.path, &change.new)?;
    }
    for (path, content) in sqlx_changes {
        match content {
            Some(content) => put(project, path, content)?,
            None => {
                let target = project.join(path);
                std::fs::remove_file(&target).map_err(Error::io("cannot remove", &target))?;
            }
        }
    }
    let base = record::base_dir(project);
    for change in base_changes {
        put(&base, &change.path, &change.new)?;
    }
    write_atomic(&record::record_path(project), record_text.as_bytes(), None)?;
    record::record_migrations(project)
}

fn next_steps(query_data: QueryData) -> Vec<String> {
    let mut steps = Vec::new();
    if query_data == QueryData::Skipped {
        steps.push(
            "medforge db prepare   # refresh .sqlx, so the project builds offline".to_owned(),
        );
    }
    steps.extend([
        "git diff              # review what was added".to_owned(),
        "bash .ci/run          # fmt, clippy -D warnings, every test (the new ones too)".to_owned(),
        "medforge check        # the controls are in place".to_owned(),
    ]);
    steps
}

/// The human summary, for stderr.
pub fn human_summary(report: &AddReport) -> String {
    let verb = if report.dry_run { "Would add" } else { "Added" };
    let mut out = format!(
        "{verb} resource `{}` to {} ({} files):\n",
        report.resource.name,
        report.path.display(),
        report.files.len()
    );
    for file in &report.files {
        out.push_str(&format!("  {:<8} {}\n", file.action, file.path));
    }
    match report.query_data {
        QueryData::WouldRefresh => out.push_str(
            "Nothing was written (--dry-run); .sqlx would be refreshed on a throwaway cluster.\n",
        ),
        QueryData::Skipped => out.push_str(
            ".sqlx was not refreshed (--skip-prepare): run `medforge db prepare` before an \
             offline build.\n",
        ),
        QueryData::Refreshed => out.push_str(
            "Recorded in .medforge/answers.toml; `medforge update` keeps it up to date.\n",
        ),
    }
    if !report.dry_run {
        out.push_str("Next steps:\n");
        for step in &report.next_steps {
            out.push_str(&format!("  {step}\n"));
        }
    }
    out
}
