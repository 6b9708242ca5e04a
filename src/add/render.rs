//! Renders resources from the templates inside the service template
//! (`resource-templates/`, which `medforge new` leaves out), so a team's template decides
//! how its resources look. `resource-templates/resource.toml` lists the files each
//! resource gets and the regions of shared files that list every resource; each is a
//! liquid template rendered with the resource's [`ResourceView`] as `resource`, beside the
//! answers every template file sees (`crate_name`, `project-name`, `tenancy`, ...).
//!
//! The same function serves `add` (one new resource) and `update` (every recorded one, into
//! a fresh render), so both produce the same bytes for the same template; Rust files are
//! formatted with rustfmt and the project's `rustfmt.toml`, as `cargo fmt` would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::regions;
use super::spec::{Action, FieldSpec, FieldType, ResourceSpec, Role, pascal};
use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::fs::read_optional_text;

/// Where a template keeps its resource templates.
pub const TEMPLATES_DIR: &str = "resource-templates";
const MANIFEST: &str = "resource.toml";

/// `resource-templates/resource.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    files: Vec<FileEntry>,
    #[serde(default)]
    regions: Vec<RegionEntry>,
}

/// A file each resource gets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    template: String,
    /// The project path, itself a liquid template.
    path: String,
    /// A liquid condition on the answers (`ui == "web"`): without it, every project.
    #[serde(default)]
    when: Option<String>,
}

/// Lines of a shared file that list every resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionEntry {
    file: String,
    id: String,
    /// Rendered once per resource; the region holds them all.
    template: String,
    /// The view field the snippets are sorted by (rustfmt sorts module declarations, so
    /// medforge must too); unsorted, they follow the order the resources were added in.
    #[serde(default)]
    sort: Option<String>,
    /// A liquid condition on the answers, as for a file.
    #[serde(default)]
    when: Option<String>,
}

/// A recorded resource: what it is, and the migration that created its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub spec: ResourceSpec,
    /// `migrations/VERSION_NAME.sql`.
    pub migration: String,
}

/// The resource templates of a template directory, parsed.
pub struct ResourceTemplates {
    dir: PathBuf,
    manifest: Manifest,
    parser: liquid::Parser,
}

impl ResourceTemplates {
    /// Reads `resource-templates/` of the template at `template_dir`.
    pub fn open(template_dir: &Path) -> Result<ResourceTemplates> {
        let dir = template_dir.join(TEMPLATES_DIR);
        let unusable = |reason: String| Error::Template {
            path: template_dir.to_owned(),
            reason,
        };
        let text = read_optional_text(&dir.join(MANIFEST))?.ok_or_else(|| {
            unusable(format!(
                "it has no {TEMPLATES_DIR}/{MANIFEST}, so medforge cannot render resources \
                 from it; copy that folder from medforge's templates/service"
            ))
        })?;
        let manifest: Manifest = toml::from_str(&text)
            .map_err(|e| unusable(format!("{TEMPLATES_DIR}/{MANIFEST}: {}", e.message())))?;
        let parser = liquid::ParserBuilder::with_stdlib()
            .build()
            .map_err(|e| Error::Render(e.into()))?;
        Ok(ResourceTemplates {
            dir,
            manifest,
            parser,
        })
    }

    /// The shared files the regions are in (those of every project, whatever `when` says).
    pub fn region_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .manifest
            .regions
            .iter()
            .map(|r| r.file.clone())
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn render(&self, source: &str, what: &str, globals: &liquid::Object) -> Result<String> {
        let failed =
            |e: liquid::Error| Error::Render(anyhow::anyhow!("{TEMPLATES_DIR}/{what}: {e}"));
        self.parser
            .parse(source)
            .map_err(failed)?
            .render(globals)
            .map_err(failed)
    }

    /// Whether an entry's `when` holds for the answers in `globals`.
    fn applies(&self, when: Option<&str>, globals: &liquid::Object) -> Result<bool> {
        let Some(condition) = when else {
            return Ok(true);
        };
        let test = format!("{{% if {condition} %}}yes{{% endif %}}");
        Ok(self.render(&test, MANIFEST, globals)? == "yes")
    }

    fn template_text(&self, name: &str) -> Result<String> {
        let path = self.dir.join(name);
        read_optional_text(&path)?.ok_or_else(|| Error::Template {
            path: self.dir.clone(),
            reason: format!("{MANIFEST} names {name}, which is not there"),
        })
    }

    /// The files `resource` gets, by project path, formatted.
    pub fn files(
        &self,
        context: &Context,
        resource: &Recorded,
    ) -> Result<BTreeMap<String, String>> {
        let globals = context.globals(resource)?;
        let mut out = BTreeMap::new();
        for entry in &self.manifest.files {
            if !self.applies(entry.when.as_deref(), &globals)? {
                continue;
            }
            let path = self
                .render(&entry.path, MANIFEST, &globals)?
                .trim()
                .to_owned();
            let text = self.render(
                &self.template_text(&entry.template)?,
                &entry.template,
                &globals,
            )?;
            out.insert(path.clone(), context.format(&path, text)?);
        }
        Ok(out)
    }

    /// Each shared file with its regions filled for `resources`, from `current` (the file
    /// as it is now, e.g. in the project or in a fresh render). A file whose markers are
    /// missing is refused: its region would silently lack the resource.
    pub fn regions(
        &self,
        context: &Context,
        resources: &[Recorded],
        current: &dyn Fn(&str) -> Result<Option<String>>,
    ) -> Result<BTreeMap<String, String>> {
        let mut views = Vec::new();
        for resource in resources {
            views.push((
                context.globals(resource)?,
                view_value(&ResourceView::new(resource)),
            ));
        }
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for region in &self.manifest.regions {
            if !self.applies(region.when.as_deref(), &context.values)? {
                continue;
            }
            let text = match out.get(&region.file) {
                Some(text) => text.clone(),
                None => current(&region.file)?.ok_or_else(|| Error::RegionMissing {
                    file: region.file.clone(),
                    region: format!("{}:start", region.id),
                })?,
            };
            let source = self.template_text(&region.template)?;
            let mut snippets = Vec::new();
            for (globals, view) in &views {
                let key = region
                    .sort
                    .as_ref()
                    .and_then(|field| view.get(field))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                snippets.push((key, self.render(&source, &region.template, globals)?));
            }
            if region.sort.is_some() {
                snippets.sort_by(|a, b| a.0.cmp(&b.0));
            }
            let content: String = snippets.into_iter().map(|(_, text)| text).collect();
            let filled =
                regions::fill(&text, &region.id, &content).ok_or_else(|| Error::RegionMissing {
                    file: region.file.clone(),
                    region: format!("{}:start` and `medforge:{}:end", region.id, region.id),
                })?;
            out.insert(region.file.clone(), filled);
        }
        for (path, text) in out.iter_mut() {
            *text = context.format(path, std::mem::take(text))?;
        }
        Ok(out)
    }
}

/// What every resource template sees besides its resource: the project's name and answers.
pub struct Context {
    values: liquid::Object,
    /// The project's rustfmt.toml, for formatting the Rust files.
    rustfmt_config: Option<PathBuf>,
}

impl Context {
    /// The context of project `name` with `answers`; Rust files are formatted with the
    /// rustfmt configuration of `project` (where the project's `rustfmt.toml` is).
    pub fn new(name: &str, answers: &Answers, project: &Path) -> Result<Context> {
        let mut values = toml::Table::new();
        values.insert("project-name".to_owned(), name.into());
        values.insert("crate_name".to_owned(), name.replace('-', "_").into());
        values.extend(answers.to_template_values());
        let values = liquid::to_object(&values).map_err(|e| Error::Render(e.into()))?;
        let config = project.join("rustfmt.toml");
        Ok(Context {
            values,
            rustfmt_config: config.is_file().then_some(config),
        })
    }

    fn globals(&self, resource: &Recorded) -> Result<liquid::Object> {
        let mut globals = self.values.clone();
        let view =
            liquid::to_object(&ResourceView::new(resource)).map_err(|e| Error::Render(e.into()))?;
        globals.insert("resource".into(), liquid::model::Value::Object(view));
        Ok(globals)
    }

    /// `text` as `cargo fmt` leaves it, for a Rust file; anything else as it is. Without
    /// rustfmt the text stays as rendered (the templates are laid out as rustfmt would).
    fn format(&self, path: &str, text: String) -> Result<String> {
        if !path.ends_with(".rs") {
            return Ok(text);
        }
        let mut command = Command::new("rustfmt");
        command.args(["--edition", "2024", "--emit", "stdout"]);
        if let Some(config) = &self.rustfmt_config {
            command.arg("--config-path").arg(config);
        }
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            return Ok(text);
        };
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin
                .write_all(text.as_bytes())
                .map_err(Error::io("cannot run rustfmt on", path))?;
        }
        let output = child
            .wait_with_output()
            .map_err(Error::io("cannot run rustfmt on", path))?;
        if !output.status.success() {
            return Err(Error::Render(anyhow::anyhow!(
                "the rendered {path} is not valid Rust (rustfmt: {})",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

fn view_value(view: &ResourceView) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(view) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// A resource as its templates see it (`resource`): the names and types the generated code
/// uses, computed once here so that every template agrees on them.
#[derive(Debug, Serialize)]
pub struct ResourceView {
    /// The table and URL segment: `prescriptions`.
    pub name: String,
    /// The model's module: `prescription`.
    pub singular: String,
    /// In prose: `prescriptions`, `lab results`.
    pub words: String,
    pub word: String,
    /// The record's type: `Prescription`.
    pub record: String,
    /// The type of the stored records and the access matrix's row: `Prescriptions`.
    pub records: String,
    /// The id type: `PrescriptionId`.
    pub id: String,
    pub belongs_to_patient: bool,
    pub holds_phi: bool,
    /// `migrations/VERSION_NAME.sql`.
    pub migration: String,
    /// The `medforge add resource` command that adds it as it is.
    pub command: String,
    pub fields: Vec<FieldView>,
    /// The PHI fields' names.
    pub phi_fields: Vec<String>,
    /// The fields an exact-match search takes: every plaintext field.
    pub search_fields: Vec<FieldView>,
    /// The columns a query returns, in the row's order.
    pub columns: String,
    /// The columns `INSERT` names.
    pub insert_columns: String,
    /// What the model imports: which kinds of field there are.
    pub uses: Uses,
    /// The `Role` variants per action.
    pub roles: BTreeMap<&'static str, Vec<&'static str>>,
    /// The access matrix's arms: actions with the same roles share one.
    pub access: Vec<Arm>,
    /// Who may do what, in prose, for the docs: one row per action.
    pub matrix: Vec<MatrixRow>,
}

/// One action and the roles that may take it, in prose.
#[derive(Debug, Serialize)]
pub struct MatrixRow {
    pub action: &'static str,
    /// `clinician, staff`, or `nobody`.
    pub who: String,
}

/// The kinds of field a resource has, for its imports.
#[derive(Debug, Serialize)]
pub struct Uses {
    pub date: bool,
    pub decimal: bool,
    pub code: bool,
    /// A PHI field whose schema comes from `Phi<T>` itself (`utoipa::PartialSchema`).
    pub typed_phi: bool,
    /// An optional field, which a PATCH may clear.
    pub present: bool,
}

/// One arm of `Role::may`: `(Records, actions) => allows`.
#[derive(Debug, Serialize)]
pub struct Arm {
    /// `Read | Create | Update`.
    pub actions: String,
    /// `self == Clinician`, `matches!(self, Clinician | Staff)` or `false`.
    pub allows: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub name: String,
    /// `text`, `date`, ...
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub phi: bool,
    pub required: bool,
    /// In prose: `prescribed on`.
    pub words: String,
    /// The constant of its `Field` (table and column): `MEDICATION`.
    pub constant: String,
    /// The Rust type of a value: `String`, `NaiveDate`, `PrescriptionStatus`.
    pub base: String,
    /// The field's type in a record: `base`, or `Option<base>` when it is optional.
    pub value: String,
    /// What the OpenAPI schema describes it as (`String` for a decimal).
    pub schema: String,
    /// A PHI field's schema function, marking it `x-phi`: `Phi::<T>::schema`, described by
    /// its type, or one of phi-guard's for the dates and moments (utoipa knows the chrono
    /// types only inside its derive); a decimal is described as text.
    pub phi_schema: String,
    /// A code field's enum, values and variants.
    pub code: Option<CodeView>,
    /// The column's SQL type: `bytea` for PHI.
    pub sql: String,
    /// `NOT NULL` for a required field, or nothing.
    pub not_null: String,
    /// The column's `CHECK`, or nothing.
    pub check: String,
    /// The type the row struct reads the column as.
    pub row: String,
    /// The expression a query selects it with, as it goes into a Rust string literal.
    pub select: String,
    /// The cast of its parameter in `INSERT` and `UPDATE`: `$3::bytea`.
    pub cast: String,
    /// Its parameter in `INSERT` (`$n`).
    pub insert_param: usize,
    /// Its two parameters in `UPDATE`: whether it is present, and its value.
    pub update_flag: usize,
    pub update_value: usize,
    /// Two synthetic values, as JSON text (`"Synthetic medication 7"`).
    pub sample: String,
    pub other_sample: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeView {
    #[serde(rename = "enum")]
    pub enum_name: String,
    pub values: Vec<CodeValue>,
    /// `'a', 'b'`, for the column's CHECK.
    pub sql_list: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeValue {
    pub value: String,
    pub variant: String,
}

impl ResourceView {
    pub fn new(recorded: &Recorded) -> ResourceView {
        let spec = &recorded.spec;
        let singular = spec.singular();
        let record = pascal(&singular);
        // $1 is the id; $2 the patient, when there is one.
        let first_field_param = if spec.belongs_to_patient { 3 } else { 2 };
        let fields: Vec<FieldView> = spec
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                FieldView::new(&spec.name, &record, field, index, first_field_param)
            })
            .collect();
        let mut columns = vec!["id".to_owned()];
        if spec.belongs_to_patient {
            columns.push("patient_id".to_owned());
        }
        let mut insert_columns = columns.clone();
        columns.extend(fields.iter().map(|f| f.select.clone()));
        insert_columns.extend(fields.iter().map(|f| f.name.clone()));
        columns.extend(["created_by", "created_at", "updated_at"].map(str::to_owned));
        let roles = Action::ALL
            .iter()
            .map(|&action| {
                let variants = spec
                    .roles
                    .of(action)
                    .iter()
                    .map(|role| role.variant())
                    .collect();
                (action.name(), variants)
            })
            .collect();
        let has = |test: &dyn Fn(&FieldSpec) -> bool| spec.fields.iter().any(test);
        let uses = Uses {
            date: has(&|f| f.kind == FieldType::Date),
            decimal: has(&|f| f.kind == FieldType::Decimal),
            code: has(&|f| f.kind == FieldType::Code),
            typed_phi: has(&|f| f.phi && describes_itself(f.kind)),
            present: has(&|f| !f.required),
        };
        ResourceView {
            uses,
            name: spec.name.clone(),
            words: spec.name.replace('_', " "),
            word: singular.replace('_', " "),
            records: pascal(&spec.name),
            id: format!("{record}Id"),
            record,
            singular,
            belongs_to_patient: spec.belongs_to_patient,
            holds_phi: spec.holds_phi(),
            migration: recorded.migration.clone(),
            command: command(spec),
            phi_fields: fields
                .iter()
                .filter(|f| f.phi)
                .map(|f| f.name.clone())
                .collect(),
            search_fields: fields.iter().filter(|f| !f.phi).cloned().collect(),
            fields,
            columns: columns.join(", "),
            insert_columns: insert_columns.join(", "),
            roles,
            access: access_arms(spec),
            matrix: Action::ALL
                .iter()
                .map(|&action| {
                    let roles = spec.roles.of(action);
                    MatrixRow {
                        action: action.name(),
                        who: if roles.is_empty() {
                            "nobody".to_owned()
                        } else {
                            roles
                                .iter()
                                .map(|r| r.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    }
                })
                .collect(),
        }
    }
}

/// The arms of the access matrix for `spec`: one per distinct set of roles, in the order
/// of the actions.
fn access_arms(spec: &ResourceSpec) -> Vec<Arm> {
    let mut arms: Vec<(Vec<Action>, String)> = Vec::new();
    for action in Action::ALL {
        let roles = spec.roles.of(action);
        let allows = match roles.len() {
            0 => "false".to_owned(),
            1 => format!(
                "self == {}",
                roles.iter().next().map_or("", |r| r.variant())
            ),
            _ => format!(
                "matches!(self, {})",
                roles
                    .iter()
                    .map(|r: &Role| r.variant())
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        };
        match arms.iter_mut().find(|(_, a)| *a == allows) {
            Some((actions, _)) => actions.push(action),
            None => arms.push((vec![action], allows)),
        }
    }
    arms.into_iter()
        .map(|(actions, allows)| Arm {
            actions: actions
                .iter()
                .map(|a| a.variant())
                .collect::<Vec<_>>()
                .join(" | "),
            allows,
        })
        .collect()
}

/// The command line that adds `spec` as it is.
pub fn command(spec: &ResourceSpec) -> String {
    let mut out = format!("medforge add resource {}", spec.name);
    for field in &spec.fields {
        out.push_str(&format!(" --field {}:{}", field.name, field.kind.name()));
        if field.phi != field.kind.phi_by_default() {
            out.push_str(if field.phi { ":phi" } else { ":plain" });
        } else if field.phi {
            out.push_str(":phi");
        }
        if field.required {
            out.push_str(":required");
        }
    }
    for field in spec.fields.iter().filter(|f| !f.values.is_empty()) {
        out.push_str(&format!(
            " --values {}={}",
            field.name,
            field.values.join(",")
        ));
    }
    if spec.belongs_to_patient {
        out.push_str(" --belongs-to patient");
    }
    if spec.roles != super::spec::Roles::default() {
        out.push_str(&format!(" --roles {}", spec.roles.to_flag()));
    }
    out
}

impl FieldView {
    fn new(
        table: &str,
        record: &str,
        field: &FieldSpec,
        index: usize,
        first_param: usize,
    ) -> FieldView {
        let name = field.name.clone();
        let code = (field.kind == FieldType::Code).then(|| CodeView {
            enum_name: format!("{record}{}", pascal(&name)),
            values: field
                .values
                .iter()
                .map(|value| CodeValue {
                    value: value.clone(),
                    variant: pascal(&value.replace('-', "_")),
                })
                .collect(),
            sql_list: field
                .values
                .iter()
                .map(|value| format!("'{value}'"))
                .collect::<Vec<_>>()
                .join(", "),
        });
        let base = match (&code, field.kind) {
            (Some(code), _) => code.enum_name.clone(),
            (None, FieldType::Text) => "String".to_owned(),
            (None, FieldType::Date) => "NaiveDate".to_owned(),
            (None, FieldType::Datetime) => "DateTime<Utc>".to_owned(),
            (None, FieldType::Integer) => "i64".to_owned(),
            (None, FieldType::Decimal) => "Decimal".to_owned(),
            (None, FieldType::Boolean) | (None, FieldType::Code) => "bool".to_owned(),
        };
        let optional = |t: &str| {
            if field.required {
                t.to_owned()
            } else {
                format!("Option<{t}>")
            }
        };
        let schema = match field.kind {
            FieldType::Decimal => "String".to_owned(),
            _ => base.clone(),
        };
        // What a plaintext column holds, by type.
        let (plain_sql, plain_row, cast) = match field.kind {
            FieldType::Text => ("text", "String", "::text"),
            FieldType::Code => ("text", "String", "::text"),
            FieldType::Date => ("date", "NaiveDate", "::date"),
            FieldType::Datetime => ("timestamptz", "DateTime<Utc>", "::timestamptz"),
            FieldType::Integer => ("bigint", "i64", "::bigint"),
            FieldType::Decimal => ("numeric", "String", "::text::numeric"),
            FieldType::Boolean => ("boolean", "bool", "::boolean"),
        };
        let (sql, row, cast) = if field.phi {
            ("bytea".to_owned(), optional("Vec<u8>"), "::bytea")
        } else {
            (plain_sql.to_owned(), optional(plain_row), cast)
        };
        let check = match (&code, field.kind, field.phi) {
            (_, _, true) => String::new(),
            (Some(code), _, false) => format!(" CHECK ({name} IN ({}))", code.sql_list),
            (None, FieldType::Text, false) => {
                format!(" CHECK (char_length(btrim({name})) BETWEEN 1 AND 10000)")
            }
            _ => String::new(),
        };
        // numeric is read as text, so no digit is lost; `!` and `?` tell sqlx whether the
        // expression can be null.
        let select = if field.kind == FieldType::Decimal && !field.phi {
            let nullability = if field.required { "!" } else { "?" };
            format!("{name}::text AS \\\"{name}{nullability}\\\"")
        } else {
            name.clone()
        };
        let (sample, other_sample) = samples(table, field);
        FieldView {
            words: name.replace('_', " "),
            constant: name.to_ascii_uppercase(),
            value: optional(&base),
            schema,
            phi_schema: phi_schema(field.kind, field.required, &base),
            base,
            code,
            sql,
            not_null: if field.required {
                " NOT NULL".to_owned()
            } else {
                String::new()
            },
            check,
            row,
            select,
            cast: cast.to_owned(),
            insert_param: first_param + index,
            update_flag: 2 + 2 * index,
            update_value: 3 + 2 * index,
            sample,
            other_sample,
            kind: field.kind,
            phi: field.phi,
            required: field.required,
            name,
        }
    }
}

/// Whether `Phi<T>` of this type describes itself in OpenAPI (`Phi::<T>::schema`).
fn describes_itself(kind: FieldType) -> bool {
    !matches!(kind, FieldType::Date | FieldType::Datetime)
}

/// The schema function of a PHI field of `kind` whose value is `base`: each marks the field
/// `"x-phi": true`, so no attribute beside it says so by hand.
fn phi_schema(kind: FieldType, required: bool, base: &str) -> String {
    let described_as = |value: &str| {
        if required {
            format!("Phi::<{value}>::schema")
        } else {
            format!("Phi::<Option<{value}>>::schema")
        }
    };
    let optional = if required { "" } else { "optional_" };
    match kind {
        FieldType::Date => format!("phi_guard::openapi::{optional}date"),
        FieldType::Datetime => format!("phi_guard::openapi::{optional}date_time"),
        FieldType::Decimal => described_as("String"),
        _ => described_as(base),
    }
}

/// Two distinct synthetic values of `field`, as JSON text. Text samples are distinctive
/// (table and field in them), so a test finding one anywhere has found a leak.
fn samples(table: &str, field: &FieldSpec) -> (String, String) {
    let quoted = |text: String| format!("\"{text}\"");
    match field.kind {
        FieldType::Text => (
            quoted(format!("Synthetic {table} {} zq1", field.name)),
            quoted(format!("Synthetic {table} {} zq2", field.name)),
        ),
        FieldType::Date => (quoted("2030-01-02".into()), quoted("2031-02-03".into())),
        FieldType::Datetime => (
            quoted("2030-01-02T09:30:00Z".into()),
            quoted("2031-02-03T10:45:00Z".into()),
        ),
        FieldType::Integer => ("424242".into(), "515151".into()),
        FieldType::Decimal => (quoted("4242.42".into()), quoted("5151.51".into())),
        FieldType::Boolean => ("true".into(), "false".into()),
        FieldType::Code => {
            let first = field.values.first().cloned().unwrap_or_default();
            let other = field.values.last().cloned().unwrap_or_default();
            (quoted(first), quoted(other))
        }
    }
}
