//! What `medforge add resource` adds: a [`ResourceSpec`], parsed from the flags (or the
//! prompts), checked before anything is rendered, and recorded as a `[[resources]]` entry
//! of `.medforge/answers.toml` so `medforge update` renders it again.
//!
//! Every check here refuses with one sentence (exit 2): a name the project already uses or
//! that PostgreSQL or Rust reserves, an unknown type, `--values` without a code field, a
//! field named like a column every record has (`clinic_id`, `created_at`, ...).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::{Error, Result};

/// The types a field can have, as `--field NAME:TYPE` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Date,
    Datetime,
    Integer,
    Decimal,
    Boolean,
    /// One of a fixed list of values (`--values`).
    Code,
}

impl FieldType {
    pub const ALL: [FieldType; 7] = [
        FieldType::Text,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Code,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Boolean => "boolean",
            FieldType::Code => "code",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldType> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether a field of this type is PHI unless it says otherwise: free text can hold
    /// anything about a patient, so it is sealed by default (HIPAA 164.312(a)(2)(iv)).
    pub fn phi_by_default(self) -> bool {
        self == FieldType::Text
    }

    fn names() -> Vec<String> {
        Self::ALL
            .iter()
            .map(|kind| kind.name().to_owned())
            .collect()
    }
}

/// One field of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Sealed in the database (AES-256-GCM, `bytea`) and marked `x-phi` in the API.
    pub phi: bool,
    /// The record cannot be created without it, nor can it be cleared.
    pub required: bool,
    /// The allowed values of a `code` field, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A field as `--field` gave it, before the prompts or the defaults settle what it left open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFlag {
    pub name: String,
    pub kind: FieldType,
    /// `:phi` (true), `:plain` (false), or neither.
    pub phi: Option<bool>,
    pub required: bool,
}

impl FieldFlag {
    /// Parses `NAME:TYPE[:phi|:plain][:required]`.
    pub fn parse(raw: &str) -> Result<FieldFlag> {
        let invalid = |reason: String| invalid("--field", reason);
        let mut parts = raw.trim().split(':');
        let name = parts.next().unwrap_or_default().to_owned();
        let Some(kind) = parts.next() else {
            return Err(invalid(format!(
                "`--field {raw}` must look like NAME:TYPE[:phi][:required], e.g. \
                 `--field medication:text:phi:required`"
            )));
        };
        let kind = FieldType::from_name(kind).ok_or_else(|| Error::InvalidResource {
            option: "--field",
            message: format!(
                "`{kind}` in `--field {raw}` is not a field type; use one of {}",
                FieldType::names().join(", ")
            ),
            allowed: Some(FieldType::names()),
        })?;
        let mut flag = FieldFlag {
            name,
            kind,
            phi: None,
            required: false,
        };
        for option in parts {
            match option {
                "phi" | "plain" if flag.phi.is_some() => {
                    return Err(invalid(format!(
                        "`--field {raw}` says more than once whether it is PHI; give `phi` or \
                         `plain` once"
                    )));
                }
                "phi" => flag.phi = Some(true),
                "plain" => flag.phi = Some(false),
                "required" => flag.required = true,
                other => {
                    return Err(invalid(format!(
                        "`{other}` in `--field {raw}` is not a field option; use `phi` (sealed, \
                         the default for text), `plain` (not PHI) or `required`"
                    )));
                }
            }
        }
        Ok(flag)
    }
}

/// The four roles of the generated service, in its `Role::ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Clinician,
    Staff,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Clinician, Role::Staff, Role::Auditor];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clinician => "clinician",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    /// The variant in the generated `Role` enum.
    pub fn variant(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Clinician => "Clinician",
            Role::Staff => "Staff",
            Role::Auditor => "Auditor",
        }
    }

    fn from_name(name: &str) -> Option<Role> {
        // `admins` reads as `admin`: people write roles both ways.
        let name = name.strip_suffix('s').unwrap_or(name);
        Self::ALL.into_iter().find(|role| role.name() == name)
    }
}

/// What a request does to a record; searching and listing are reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// The variant in the generated `Action` enum.
    pub fn variant(self) -> &'static str {
        match self {
            Action::Read => "Read",
            Action::Create => "Create",
            Action::Update => "Update",
            Action::Delete => "Delete",
        }
    }
}

/// Who may do what: the resource's row of the access matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roles {
    pub read: BTreeSet<Role>,
    pub create: BTreeSet<Role>,
    pub update: BTreeSet<Role>,
    pub delete: BTreeSet<Role>,
}

impl Default for Roles {
    /// The minimum necessary, as for notes (HIPAA 164.502(b)): clinicians read, create and
    /// update; admins delete (a soft delete) without reading.
    fn default() -> Roles {
        let only = |role| BTreeSet::from([role]);
        Roles {
            read: only(Role::Clinician),
            create: only(Role::Clinician),
            update: only(Role::Clinician),
            delete: only(Role::Admin),
        }
    }
}

impl Roles {
    pub fn of(&self, action: Action) -> &BTreeSet<Role> {
        match action {
            Action::Read => &self.read,
            Action::Create => &self.create,
            Action::Update => &self.update,
            Action::Delete => &self.delete,
        }
    }

    fn of_mut(&mut self, action: Action) -> &mut BTreeSet<Role> {
        match action {
            Action::Read => &mut self.read,
            Action::Create => &mut self.create,
            Action::Update => &mut self.update,
            Action::Delete => &mut self.delete,
        }
    }

    /// Sets the roles of `action`.
    pub fn set(&mut self, action: Action, roles: BTreeSet<Role>) {
        *self.of_mut(action) = roles;
    }

    /// Applies `--roles read=clinician+staff,delete=admin` (repeatable) to the defaults:
    /// an action not named keeps its default; `none` gives it to nobody.
    pub fn parse(flags: &[String]) -> Result<Roles> {
        let mut roles = Roles::default();
        for flag in flags {
            for item in flag.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let (action, who) = item.split_once('=').ok_or_else(|| {
                    invalid(
                        "--roles",
                        format!(
                            "`{item}` in `--roles` must look like ACTION=ROLE[+ROLE], e.g. \
                             `--roles read=clinician+staff,delete=admin`"
                        ),
                    )
                })?;
                let action = Action::ALL
                    .into_iter()
                    .find(|a| a.name() == action.trim())
                    .ok_or_else(|| Error::InvalidResource {
                        option: "--roles",
                        message: format!(
                            "`{action}` in `--roles` is not an action; use read, create, update \
                             or delete"
                        ),
                        allowed: Some(Action::ALL.iter().map(|a| a.name().to_owned()).collect()),
                    })?;
                roles.set(action, parse_role_set(who)?);
            }
        }
        Ok(roles)
    }

    /// The `--roles` text that gives exactly these roles.
    pub fn to_flag(&self) -> String {
        Action::ALL
            .iter()
            .map(|&action| format!("{}={}", action.name(), role_set_text(self.of(action))))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `clinician+staff`, or `none`.
pub fn parse_role_set(text: &str) -> Result<BTreeSet<Role>> {
    let text = text.trim();
    if text == "none" || text.is_empty() {
        return Ok(BTreeSet::new());
    }
    text.split(['+', ' '])
        .filter(|name| !name.is_empty())
        .map(|name| {
            Role::from_name(name).ok_or_else(|| Error::InvalidResource {
                option: "--roles",
                message: format!(
                    "`{name}` in `--roles` is not a role; use admin, clinician, staff, auditor \
                     or none"
                ),
                allowed: Some(Role::ALL.iter().map(|r| r.name().to_owned()).collect()),
            })
        })
        .collect()
}

/// `clinician+staff`, or `none`.
pub fn role_set_text(roles: &BTreeSet<Role>) -> String {
    if roles.is_empty() {
        return "none".to_owned();
    }
    roles.iter().map(|r| r.name()).collect::<Vec<_>>().join("+")
}

/// A resource to add, complete and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceSpec {
    /// The table, the URL path and the name: plural snake case (`prescriptions`).
    pub name: String,
    pub fields: Vec<FieldSpec>,
    /// Each record is about one patient, and is hidden with a restricted patient.
    pub belongs_to_patient: bool,
    pub roles: Roles,
}

impl ResourceSpec {
    /// The singular (`prescription`): the model's module and the record's type.
    pub fn singular(&self) -> String {
        singular(&self.name)
    }

    /// Whether its records hold PHI: a PHI field, or a patient they are about (that a
    /// patient has such a record is itself health information).
    pub fn holds_phi(&self) -> bool {
        self.belongs_to_patient || self.fields.iter().any(|f| f.phi)
    }

    /// Checks what no prompt or flag parser can see alone: the fields together, the
    /// values of the code fields, and roles that leave the resource usable.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if self.fields.is_empty() {
            return Err(invalid(
                "--field",
                "a resource needs at least one field: pass --field NAME:TYPE[:phi][:required]"
                    .to_owned(),
            ));
        }
        if self.fields.len() > MAX_FIELDS {
            return Err(invalid(
                "--field",
                format!("a resource has at most {MAX_FIELDS} fields"),
            ));
        }
        let mut seen = BTreeSet::new();
        for field in &self.fields {
            validate_field_name(&field.name)?;
            if !seen.insert(field.name.as_str()) {
                return Err(invalid(
                    "--field",
                    format!(
                        "field `{}` is given twice; name each field once",
                        field.name
                    ),
                ));
            }
            match (field.kind, field.values.is_empty()) {
                (FieldType::Code, true) => {
                    return Err(invalid(
                        "--values",
                        format!(
                            "code field `{}` needs its values: pass --values a,b,c",
                            field.name
                        ),
                    ));
                }
                (FieldType::Code, false) => validate_values(&field.name, &field.values)?,
                (_, false) => return Err(values_need_code(field)),
                (_, true) => {}
            }
        }
        // A resource nobody can create or read is a table nobody can use.
        for action in [Action::Read, Action::Create] {
            if self.roles.of(action).is_empty() {
                return Err(invalid(
                    "--roles",
                    format!(
                        "no role may {} {}, so nobody could use them; give {}= at least one role",
                        action.name(),
                        self.name,
                        action.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The `[[resources]]` entry of `.medforge/answers.toml`.
    pub fn to_toml(&self, migration: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("name".to_owned(), self.name.clone().into());
        table.insert(
            "belongs_to".to_owned(),
            if self.belongs_to_patient {
                "patient"
            } else {
                "none"
            }
            .into(),
        );
        table.insert("migration".to_owned(), migration.into());
        let mut roles = toml::Table::new();
        for action in Action::ALL {
            let names: Vec<toml::Value> = self
                .roles
                .of(action)
                .iter()
                .map(|role| role.name().into())
                .collect();
            roles.insert(action.name().to_owned(), toml::Value::Array(names));
        }
        table.insert("roles".to_owned(), toml::Value::Table(roles));
        let fields = self
            .fields
            .iter()
            .map(|field| {
                let mut entry = toml::Table::new();
                entry.insert("name".to_owned(), field.name.clone().into());
                entry.insert("type".to_owned(), field.kind.name().into());
                entry.insert("phi".to_owned(), field.phi.into());
                entry.insert("required".to_owned(), field.required.into());
                if !field.values.is_empty() {
                    let values = field.values.iter().map(|v| v.clone().into()).collect();
                    entry.insert("values".to_owned(), toml::Value::Array(values));
                }
                toml::Value::Table(entry)
            })
            .collect();
        table.insert("fields".to_owned(), toml::Value::Array(fields));
        table
    }

    /// Reads a `[[resources]]` entry back, with the migration it was added with; `where_`
    /// names the file for the message when it is damaged.
    pub fn from_toml(entry: &toml::Table, where_: &str) -> Result<(ResourceSpec, String)> {
        let damaged = |what: String| Error::InvalidResource {
            option: "resources",
            message: format!(
                "a `[[resources]]` entry of {where_} is damaged: {what}; restore it from \
                 version control"
            ),
            allowed: None,
        };
        let text = |table: &toml::Table, key: &str| -> Result<String> {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| damaged(format!("`{key}` is missing")))
        };
        let flag = |table: &toml::Table, key: &str| -> bool {
            table
                .get(key)
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        };
        let strings = |value: Option<&toml::Value>| -> Vec<String> {
            value
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let name = text(entry, "name")?;
        let migration = text(entry, "migration")?;
        let belongs_to_patient = match text(entry, "belongs_to").as_deref() {
            Ok("patient") => true,
            Ok("none") | Err(_) => false,
            Ok(other) => return Err(damaged(format!("`belongs_to = \"{other}\"`"))),
        };
        let mut roles = Roles::default();
        if let Some(table) = entry.get("roles").and_then(toml::Value::as_table) {
            for action in Action::ALL {
                let names = strings(table.get(action.name()));
                roles.set(action, parse_role_set(&names.join("+"))?);
            }
        }
        let mut fields = Vec::new();
        for field in entry
            .get("fields")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = field
                .as_table()
                .ok_or_else(|| damaged("a field is not a table".to_owned()))?;
            let kind = text(field, "type")?;
            fields.push(FieldSpec {
                name: text(field, "name")?,
                kind: FieldType::from_name(&kind)
                    .ok_or_else(|| damaged(format!("`type = \"{kind}\"`")))?,
                phi: flag(field, "phi"),
                required: flag(field, "required"),
                values: strings(field.get("values")),
            });
        }
        let spec = ResourceSpec {
            name,
            fields,
            belongs_to_patient,
            roles,
        };
        spec.validate()?;
        Ok((spec, migration))
    }
}

/// Attaches `--values` to the code fields: `--values a,b` goes to the code fields in the
/// order they were given, `--values FIELD=a,b` to the one it names.
pub fn assign_values(fields: &mut [FieldSpec], flags: &[String]) -> Result<()> {
    let mut unnamed = Vec::new();
    for flag in flags {
        let named = flag.split_once('=').filter(|(field, _)| {
            !field.contains(',') && fields.iter().any(|f| f.name == field.trim())
        });
        match named {
            Some((field, values)) => {
                let field = fields
                    .iter_mut()
                    .find(|f| f.name == field.trim())
                    .expect("the filter found it");
                if field.kind != FieldType::Code {
                    return Err(values_need_code(field));
                }
                field.values = split_values(values);
            }
            None => unnamed.push(split_values(flag)),
        }
    }
    if unnamed.is_empty() {
        return Ok(());
    }
    let mut open: Vec<&mut FieldSpec> = fields
        .iter_mut()
        .filter(|f| f.kind == FieldType::Code && f.values.is_empty())
        .collect();
    if open.is_empty() {
        return Err(invalid(
            "--values",
            "--values is for code fields (`--field NAME:code`), and no --field has type code \
             without values"
                .to_owned(),
        ));
    }
    if unnamed.len() > open.len() {
        return Err(invalid(
            "--values",
            format!(
                "{} --values given for {} code field(s); give one per code field, or name it: \
                 --values FIELD=a,b",
                unnamed.len(),
                open.len()
            ),
        ));
    }
    for (field, values) in open.iter_mut().zip(unnamed) {
        field.values = values;
    }
    Ok(())
}

/// `--values` given to a field that is not a code field.
fn values_need_code(field: &FieldSpec) -> Error {
    invalid(
        "--values",
        format!(
            "--values is for code fields, and `{}` is {}",
            field.name,
            field.kind.name()
        ),
    )
}

fn split_values(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The most fields one resource takes: a record wider than this is several resources.
const MAX_FIELDS: usize = 40;

/// PostgreSQL's identifiers hold 63 bytes; the longest name made from a resource's name is
/// its policy, `NAME_own_clinic`.
const MAX_NAME: usize = 40;

/// Columns every record has, which the migration and the model write themselves.
pub const CONTROL_COLUMNS: &[&str] = &[
    "id",
    "clinic_id",
    "tenant_id",
    "patient_id",
    "created_by",
    "created_at",
    "updated_at",
    "deleted_at",
    // PostgreSQL's system columns.
    "oid",
    "tableoid",
    "xmin",
    "xmax",
    "cmin",
    "cmax",
    "ctid",
];

/// Names the service uses, or will use when a module is added later with `medforge update
/// --set modules=...`: tables, route modules, test modules and access-matrix rows. The
/// project's own files and tables are checked as well.
const RESERVED_NAMES: &[&str] = &[
    "patients",
    "encounters",
    "appointments",
    "notes",
    "users",
    "clinics",
    "sessions",
    "accounts",
    "restrictions",
    "patient_restrictions",
    "care_teams",
    "audit_events",
    "audit_trails",
    "emergency_accesses",
    "tenant_keys",
    "recovery_codes",
    "account_tokens",
    "resources",
    "fields",
    "roles",
    "actions",
    "ids",
    "routes",
    "models",
    "migrations",
    "tests",
    "supports",
    // The pages' own modules and paths (`src/web/`, `/app/...`).
    "assets",
    "sections",
    "logins",
    "admins",
    "audits",
    "expireds",
];

/// Type names the generated code imports beside the resource's own: a record type of the
/// same name would not compile.
const RESERVED_TYPES: &[&str] = &[
    "Action",
    "ApiError",
    "Body",
    "Caller",
    "ClinicKeys",
    "ClinicalRecords",
    "CryptoError",
    "DateTime",
    "Decimal",
    "Deserialize",
    "Doc",
    "Event",
    "Field",
    "Method",
    "NaiveDate",
    "OpaqueId",
    "Outcome",
    "Page",
    "Paging",
    "PatientId",
    "PgConnection",
    "Phi",
    "PhiResponse",
    "RedactedDebug",
    "Reply",
    "Resource",
    "Role",
    "Route",
    "Serialize",
    "StatusCode",
    "TestApp",
    "TestDb",
    "ToSchema",
    "UserId",
    "Utc",
    "Uuid",
    "Value",
];

/// PostgreSQL's reserved key words (SQL Key Words, appendix C: "reserved" and "reserved
/// (can be function or type)"), which cannot name a table or column unquoted.
pub const SQL_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

fn invalid(option: &'static str, message: String) -> Error {
    Error::InvalidResource {
        option,
        message,
        allowed: None,
    }
}

/// `prescriptions` → `prescription`, `allergies` → `allergy`, `statuses` → `status`.
pub fn singular(plural: &str) -> String {
    if let Some(stem) = plural.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["sses", "uses", "xes", "zes", "ches", "shes"] {
        if plural.ends_with(ending) {
            return plural[..plural.len() - 2].to_owned();
        }
    }
    plural.strip_suffix('s').unwrap_or(plural).to_owned()
}

/// `lab_results` → `LabResults`.
pub fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A lowercase identifier: a letter, then letters, digits and single `_`.
fn check_identifier(text: &str, what: &str, option: &'static str) -> Result<()> {
    let shape = if text.is_empty() {
        Some("it is empty".to_owned())
    } else if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("start with a lowercase letter (a-z)".to_owned())
    } else if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "`{bad}` is not allowed; use lowercase letters, digits and `_`"
        ))
    } else if text.ends_with('_') || text.contains("__") {
        Some("use single `_` between words".to_owned())
    } else if text.len() > MAX_NAME {
        Some(format!("use at most {MAX_NAME} characters"))
    } else {
        None
    };
    match shape {
        Some(reason) => Err(invalid(
            option,
            format!("invalid {what} `{text}`: {reason}"),
        )),
        None => Ok(()),
    }
}

/// The name of a resource: its table, URL and module names.
pub fn validate_name(name: &str) -> Result<()> {
    check_identifier(name, "resource name", "name")?;
    let refuse = |reason: String| {
        Err(invalid(
            "name",
            format!("cannot name a resource `{name}`: {reason}"),
        ))
    };
    if SQL_KEYWORDS.contains(&name) {
        return refuse("it is an SQL key word, which cannot name a table".to_owned());
    }
    let singular = singular(name);
    if singular == name {
        return refuse(format!(
            "name it in the plural, as its table and URL (`{name}s`)"
        ));
    }
    // The singular names a Rust module; the plural a table too.
    for word in [name, singular.as_str()] {
        if crate::name::KEYWORDS.contains(&word) {
            return refuse(format!("`{word}` is a Rust key word"));
        }
    }
    if RESERVED_NAMES.contains(&name) {
        return refuse("the service uses that name already (or will, for a module)".to_owned());
    }
    for type_name in [pascal(&singular), pascal(name)] {
        if RESERVED_TYPES.contains(&type_name.as_str()) {
            return refuse(format!(
                "its type `{type_name}` would clash with a type the generated code uses"
            ));
        }
    }
    Ok(())
}

fn validate_field_name(name: &str) -> Result<()> {
    check_identifier(name, "field name", "--field")?;
    let refuse = |reason: &str| {
        Err(invalid(
            "--field",
            format!("cannot name a field `{name}`: {reason}"),
        ))
    };
    if CONTROL_COLUMNS.contains(&name) {
        return refuse(
            "every record has that column already, written by the service and the database",
        );
    }
    if SQL_KEYWORDS.contains(&name) {
        return refuse("it is an SQL key word, which cannot name a column");
    }
    if crate::name::KEYWORDS.contains(&name) {
        return refuse("it is a Rust key word, which cannot name a struct field");
    }
    Ok(())
}

fn validate_values(field: &str, values: &[String]) -> Result<()> {
    let mut variants = BTreeSet::new();
    for value in values {
        let shape_ok = value.starts_with(|c: char| c.is_ascii_lowercase())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            && value.len() <= 64;
        if !shape_ok {
            return Err(invalid(
                "--values",
                format!(
                    "value `{value}` of `{field}` must start with a lowercase letter and hold \
                     only lowercase letters, digits, `-` and `_` (at most 64)"
                ),
            ));
        }
        if !variants.insert(pascal(&value.replace('-', "_"))) {
            return Err(invalid(
                "--values",
                format!(
                    "value `{value}` of `{field}` is given twice (or twice in another spelling)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fields: &[&str], values: &[&str]) -> Result<ResourceSpec> {
        let mut specs: Vec<FieldSpec> = fields
            .iter()
            .map(|raw| {
                FieldFlag::parse(raw).map(|flag| FieldSpec {
                    phi: flag.phi.unwrap_or(flag.kind.phi_by_default()),
                    name: flag.name,
                    kind: flag.kind,
                    required: flag.required,
                    values: Vec::new(),
                })
            })
            .collect::<Result<_>>()?;
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        assign_values(&mut specs, &values)?;
        let spec = ResourceSpec {
            name: "prescriptions".to_owned(),
            fields: specs,
            belongs_to_patient: true,
            roles: Roles::default(),
        };
        spec.validate()?;
        Ok(spec)
    }

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn fields_parse_with_their_options_and_defaults() {
        let spec = spec(
            &[
                "medication:text:phi:required",
                "dose:text",
                "note:text:plain",
                "prescribed_on:date",
                "status:code",
            ],
            &["active,stopped"],
        )
        .unwrap();
        let field = |name: &str| spec.fields.iter().find(|f| f.name == name).unwrap();
        assert!(field("medication").phi && field("medication").required);
        assert!(
            field("dose").phi,
            "free text is PHI unless it says otherwise"
        );
        assert!(!field("note").phi);
        assert!(!field("prescribed_on").phi && !field("prescribed_on").required);
        assert_eq!(field("status").values, ["active", "stopped"]);
        assert!(spec.holds_phi());
    }

    #[test]
    fn bad_fields_get_one_sentence_each() {
        for (fields, values, expected) in [
            (&["dose:texty"][..], &[][..], "is not a field type"),
            (&["dose"], &[], "must look like NAME:TYPE"),
            (&["dose:text:secret"], &[], "is not a field option"),
            (&["dose:text:phi:plain"], &[], "more than once"),
            (&["dose:text", "dose:date"], &[], "given twice"),
            (&["clinic_id:text"], &[], "every record has that column"),
            (
                &["created_at:datetime"],
                &[],
                "every record has that column",
            ),
            (&["order:integer"], &[], "SQL key word"),
            (&["type:text"], &[], "Rust key word"),
            (&["Dose:text"], &[], "start with a lowercase letter"),
            (&["dose:text"], &["a,b"], "no --field has type code"),
            (&["status:code"], &[], "needs its values"),
            (&["status:code"], &["a,b", "c"], "2 --values given for 1"),
            (
                &["status:code"],
                &["Active"],
                "must start with a lowercase letter",
            ),
            (
                &["status:code"],
                &["in-progress,in_progress"],
                "given twice",
            ),
            (&["dose:text"], &["dose=a,b"], "is for code fields"),
        ] {
            let err = message(spec(fields, values));
            assert!(err.contains(expected), "{fields:?} {values:?}: {err}");
        }
    }

    #[test]
    fn values_go_to_their_code_fields_in_order_or_by_name() {
        let spec = spec(
            &["status:code", "route:code"],
            &["route=oral,iv", "active,stopped"],
        )
        .unwrap();
        assert_eq!(spec.fields[0].values, ["active", "stopped"]);
        assert_eq!(spec.fields[1].values, ["oral", "iv"]);
    }

    #[test]
    fn names_must_be_plural_free_and_not_keywords() {
        for (name, expected) in [
            ("prescription", "in the plural"),
            ("patients", "uses that name already"),
            ("sessions", "uses that name already"),
            ("users", "uses that name already"),
            ("Rooms", "start with a lowercase letter"),
            ("lab__results", "single `_`"),
            ("fields", "uses that name already"),
            ("phis", "clash with a type"),
            ("selects", ""),
        ] {
            let result = validate_name(name);
            if expected.is_empty() {
                assert!(result.is_ok(), "{name}: {result:?}");
            } else {
                let err = message(result);
                assert!(err.contains(expected), "{name}: {err}");
            }
        }
        assert!(message(validate_name("users")).contains("users"));
        assert!(validate_name("lab_results").is_ok());
    }

    #[test]
    fn singulars_and_type_names() {
        for (plural, one) in [
            ("prescriptions", "prescription"),
            ("allergies", "allergy"),
            ("statuses", "status"),
            ("boxes", "box"),
            ("doses", "dose"),
            ("rooms", "room"),
            ("addresses", "address"),
        ] {
            assert_eq!(singular(plural), one);
        }
        assert_eq!(pascal("lab_results"), "LabResults");
    }

    #[test]
    fn roles_default_to_the_minimum_necessary_and_parse_per_action() {
        let roles = Roles::parse(&[]).unwrap();
        assert_eq!(
            roles.to_flag(),
            "read=clinician,create=clinician,update=clinician,delete=admin"
        );
        let roles = Roles::parse(&["read=clinician+staff, delete=none".to_owned()]).unwrap();
        assert_eq!(
            roles.to_flag(),
            "read=clinician+staff,create=clinician,update=clinician,delete=none"
        );
        for (flag, expected) in [
            ("read", "must look like ACTION=ROLE"),
            ("write=admin", "is not an action"),
            ("read=doctor", "is not a role"),
        ] {
            let err = message(Roles::parse(&[flag.to_owned()]));
            assert!(err.contains(expected), "{flag}: {err}");
        }
        let mut nobody = spec(&["dose:text"], &[]).unwrap();
        nobody.roles = Roles::parse(&["read=none".to_owned()]).unwrap();
        assert!(message(nobody.validate()).contains("no role may read"));
    }

    #[test]
    fn the_record_entry_reads_back() {
        let spec = spec(
            &["medication:text:required", "status:code", "given_on:date"],
            &["a,b"],
        )
        .unwrap();
        let entry = spec.to_toml("migrations/1_prescriptions.sql");
        let (back, migration) = ResourceSpec::from_toml(&entry, "answers.toml").unwrap();
        assert_eq!(back, spec);
        assert_eq!(migration, "migrations/1_prescriptions.sql");
    }
}
