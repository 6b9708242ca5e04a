//! Answers to the options: parsed from `--set`, an answers file or a prompt, validated
//! against the option table, and written to `.medforge/answers.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::options::{self, Default, Kind, OPTIONS, OptionSpec};
use crate::policy::{Choice, Policy};

/// One validated answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Int(u32),
    Str(String),
    /// A subset of the option's choices, deduplicated, in the option table's order.
    List(Vec<String>),
}

/// Where a value came from, so an error can point at it.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    Flag,
    File(&'a Path),
    Prompt,
}

impl Origin<'_> {
    fn describe(self) -> String {
        match self {
            Origin::Flag => " in --set".to_owned(),
            Origin::File(path) => format!(" in {}", path.display()),
            Origin::Prompt => String::new(),
        }
    }
}

impl Value {
    /// The option's default, as a value.
    pub fn default_for(spec: &OptionSpec) -> Value {
        match spec.default {
            Default::Str(s) => Value::Str(s.to_owned()),
            Default::Int(n) => Value::Int(n),
            Default::List(items) => Value::List(items.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    /// Parses the text form used by `--set` (lists are comma-separated; `none` or nothing
    /// is the empty list).
    pub fn parse(spec: &OptionSpec, raw: &str, origin: Origin) -> Result<Value> {
        let raw = raw.trim();
        let value = match spec.kind {
            Kind::Integer { min, max } => Value::Int(raw.parse().map_err(|_| {
                invalid(
                    spec,
                    origin,
                    format!("expected a whole number from {min} to {max}, got `{raw}`"),
                )
            })?),
            Kind::MultiChoice { .. } => Value::List(if raw.is_empty() || raw == "none" {
                Vec::new()
            } else {
                raw.split(',').map(|item| item.trim().to_owned()).collect()
            }),
            Kind::Choice { .. } | Kind::Text { .. } => Value::Str(raw.to_owned()),
        };
        value.validated(spec, origin)
    }

    /// Converts a TOML value from an answers file.
    pub fn from_toml(spec: &OptionSpec, raw: &toml::Value, origin: Origin) -> Result<Value> {
        let value = match (spec.kind, raw) {
            (Kind::Integer { .. }, toml::Value::Integer(n)) => {
                Value::Int(u32::try_from(*n).map_err(|_| {
                    invalid(
                        spec,
                        origin,
                        format!("{n} is out of range ({})", range(spec)),
                    )
                })?)
            }
            // Integers written as strings are accepted, as `--set` would.
            (Kind::Integer { .. }, toml::Value::String(s)) => {
                return Value::parse(spec, s, origin);
            }
            (Kind::MultiChoice { .. }, toml::Value::Array(items)) => Value::List(
                items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            invalid(spec, origin, format!("expected strings, got `{item}`"))
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            (Kind::MultiChoice { .. }, toml::Value::String(s)) => {
                return Value::parse(spec, s, origin);
            }
            (Kind::Choice { .. } | Kind::Text { .. }, toml::Value::String(s)) => {
                Value::Str(s.clone())
            }
            (_, other) => {
                return Err(invalid(
                    spec,
                    origin,
                    format!("expected {}, got `{other}`", expected(spec)),
                ));
            }
        };
        value.validated(spec, origin)
    }

    /// Checks the value against the option's rules and normalizes lists.
    fn validated(self, spec: &OptionSpec, origin: Origin) -> Result<Value> {
        match (spec.kind, self) {
            (Kind::Integer { min, max }, Value::Int(n)) if (min..=max).contains(&n) => {
                Ok(Value::Int(n))
            }
            (Kind::Integer { min, max }, Value::Int(n)) => Err(invalid(
                spec,
                origin,
                format!("{n} is out of range; expected {min} to {max}"),
            )),
            (Kind::Choice { choices }, Value::Str(s)) if choices.contains(&s.as_str()) => {
                Ok(Value::Str(s))
            }
            (Kind::Choice { choices }, Value::Str(s)) => Err(invalid(
                spec,
                origin,
                format!("`{s}` is not one of {}", choices.join(", ")),
            )),
            (Kind::MultiChoice { choices, required }, Value::List(items)) => {
                if let Some(unknown) = items.iter().find(|i| !choices.contains(&i.as_str())) {
                    return Err(invalid(
                        spec,
                        origin,
                        format!(
                            "`{unknown}` is not one of {} (separate several with commas)",
                            choices.join(", ")
                        ),
                    ));
                }
                if let Some(missing) = required.iter().find(|r| !items.iter().any(|i| i == *r)) {
                    return Err(invalid(spec, origin, format!("must include `{missing}`")));
                }
                // Table order, no duplicates: the same answers always render the same project.
                Ok(Value::List(
                    choices
                        .iter()
                        .filter(|c| items.iter().any(|i| i == *c))
                        .map(|c| (*c).to_owned())
                        .collect(),
                ))
            }
            (
                Kind::Text {
                    expected, validate, ..
                },
                Value::Str(s),
            ) => {
                if validate(&s) {
                    Ok(Value::Str(s))
                } else {
                    Err(invalid(spec, origin, format!("`{s}` is not {expected}")))
                }
            }
            (_, other) => Err(invalid(
                spec,
                origin,
                format!("expected {}, got {other:?}", expected(spec)),
            )),
        }
    }

    /// The text form `--set` accepts, for messages and prompts.
    pub fn to_flag_text(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.clone(),
            Value::List(items) if items.is_empty() => "none".to_owned(),
            Value::List(items) => items.join(","),
        }
    }

    fn to_toml(&self) -> toml::Value {
        match self {
            Value::Int(n) => toml::Value::Integer(i64::from(*n)),
            Value::Str(s) => toml::Value::String(s.clone()),
            Value::List(items) => {
                toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect())
            }
        }
    }
}

fn invalid(spec: &OptionSpec, origin: Origin, reason: String) -> Error {
    Error::InvalidValue {
        key: spec.key.to_owned(),
        origin: origin.describe(),
        reason,
    }
}

fn expected(spec: &OptionSpec) -> String {
    match spec.kind {
        Kind::Integer { .. } => format!("a whole number ({})", range(spec)),
        Kind::MultiChoice { choices, .. } => format!("a list of {}", choices.join(", ")),
        Kind::Choice { choices } => format!("one of {}", choices.join(", ")),
        Kind::Text { expected, .. } => expected.to_owned(),
    }
}

fn range(spec: &OptionSpec) -> String {
    match spec.kind {
        Kind::Integer { min, max } => format!("{min} to {max}"),
        _ => String::new(),
    }
}

fn unknown_option(key: &str, origin: Origin) -> Error {
    Error::UnknownOption {
        key: key.to_owned(),
        origin: origin.describe(),
        known: options::known_keys(),
    }
}

/// The answers given so far; options without an answer are filled from defaults or a prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    values: BTreeMap<&'static str, Value>,
}

impl Answers {
    /// Every option at its secure default.
    pub fn defaults() -> Answers {
        let mut answers = Answers::default();
        answers.fill_defaults();
        answers
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn insert(&mut self, spec: &'static OptionSpec, value: Value) {
        self.values.insert(spec.key, value);
    }

    /// Applies `--set KEY=VALUE` flags, later flags winning.
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<()> {
        for flag in flags {
            let (key, raw) = flag
                .split_once('=')
                .ok_or_else(|| Error::MalformedSet(flag.clone()))?;
            let key = key.trim();
            let spec = options::find(key).ok_or_else(|| unknown_option(key, Origin::Flag))?;
            self.insert(spec, Value::parse(spec, raw, Origin::Flag)?);
        }
        Ok(())
    }

    /// Reads an answers file: a flat TOML table of option keys, or a project's
    /// `.medforge/answers.toml` (whose `[answers]` table is used).
    pub fn from_file(path: &Path) -> Result<Answers> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::AnswersUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| Error::AnswersMalformed {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?;
        let origin = Origin::File(path);
        let table = match table.get(RECORD_ANSWERS) {
            Some(toml::Value::Table(answers)) => answers.clone(),
            Some(_) => {
                return Err(Error::AnswersMalformed {
                    path: path.to_owned(),
                    message: format!("`{RECORD_ANSWERS}` must be a table"),
                });
            }
            None => table,
        };
        Answers::from_table(&table, origin)
    }

    /// Validates a table of `key = value` answers, as read from `origin`.
    pub fn from_table(table: &toml::Table, origin: Origin) -> Result<Answers> {
        let mut answers = Answers::default();
        for (key, raw) in table {
            let spec = options::find(key).ok_or_else(|| unknown_option(key, origin))?;
            answers.insert(spec, Value::from_toml(spec, raw, origin)?);
        }
        Ok(answers)
    }

    /// Options that have no answer yet, in table order.
    pub fn missing(&self) -> Vec<&'static OptionSpec> {
        OPTIONS
            .iter()
            .filter(|spec| !self.values.contains_key(spec.key))
            .collect()
    }

    pub fn fill_defaults(&mut self) {
        for spec in self.missing() {
            self.insert(spec, Value::default_for(spec));
        }
    }

    /// Every answer in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        OPTIONS
            .iter()
            .filter_map(|spec| self.values.get(spec.key).map(|value| (spec.key, value)))
    }

    /// The answers as a TOML table, in table order.
    pub fn to_toml(&self) -> toml::Table {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.to_toml()))
            .collect()
    }

    /// The answers as cargo-generate template values: its placeholders are strings or
    /// string arrays, so numbers travel as their decimal text.
    pub fn to_template_values(&self) -> toml::Table {
        self.iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::Int(n) => toml::Value::String(n.to_string()),
                    other => other.to_toml(),
                };
                (key.to_owned(), value)
            })
            .collect()
    }
}

/// Reading answers as [`Policy`] types. Answers hold validated values only (every parser
/// and prompt checks them against the option table), so a choice always names a variant
/// and a number is a number; an option without an answer reads as its default, as with
/// `--yes`.
impl Answers {
    /// The answers, typed.
    pub fn policy(&self) -> Policy {
        Policy {
            regime: self.choice(&options::REGIME),
            tenancy: self.choice(&options::TENANCY),
            mfa: self.choice(&options::MFA),
            session_idle_minutes: self.number(&options::SESSION_IDLE_MINUTES),
            session_absolute_hours: self.number(&options::SESSION_ABSOLUTE_HOURS),
            modules: self.set(&options::MODULES),
            tls: self.choice(&options::TLS),
            key_provider: self.choice(&options::KEY_PROVIDER),
            ai_tools: self.set(&options::AI_TOOLS),
            data_residency: self.text(&options::DATA_RESIDENCY),
            ui: self.choice(&options::UI),
        }
    }

    fn value_or_default(&self, spec: &OptionSpec) -> Value {
        self.get(spec.key)
            .cloned()
            .unwrap_or_else(|| Value::default_for(spec))
    }

    fn choice<T: Choice + std::default::Default>(&self, spec: &OptionSpec) -> T {
        match self.value_or_default(spec) {
            Value::Str(name) => T::from_name(&name),
            _ => None,
        }
        .unwrap_or_default()
    }

    fn set<T: Choice>(&self, spec: &OptionSpec) -> std::collections::BTreeSet<T> {
        match self.value_or_default(spec) {
            Value::List(names) => names.iter().filter_map(|name| T::from_name(name)).collect(),
            _ => std::collections::BTreeSet::new(),
        }
    }

    fn number(&self, spec: &OptionSpec) -> u32 {
        match (self.value_or_default(spec), spec.default) {
            (Value::Int(n), _) | (_, Default::Int(n)) => n,
            _ => 0,
        }
    }

    fn text(&self, spec: &OptionSpec) -> String {
        match self.value_or_default(spec) {
            Value::Str(text) => text,
            other => other.to_flag_text(),
        }
    }
}

impl Serialize for Answers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// The table of `.medforge/answers.toml` that holds the answers.
pub const RECORD_ANSWERS: &str = "answers";

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: &str) -> &'static OptionSpec {
        options::find(key).unwrap()
    }

    #[test]
    fn defaults_cover_every_option_and_are_valid() {
        let answers = Answers::defaults();
        assert!(answers.missing().is_empty());
        for (key, value) in answers.iter() {
            let text = value.to_flag_text();
            assert_eq!(
                &Value::parse(spec(key), &text, Origin::Flag).unwrap(),
                value,
                "{key}"
            );
        }
    }

    #[test]
    fn flags_parse_and_later_flags_win() {
        let mut answers = Answers::default();
        answers
            .apply_flags(&[
                "tenancy=single".into(),
                "modules=notes, patients,notes".into(),
                "session_idle_minutes=10".into(),
                "tenancy=multi".into(),
                "ai_tools=".into(),
            ])
            .unwrap();
        assert_eq!(answers.get("tenancy"), Some(&Value::Str("multi".into())));
        assert_eq!(
            answers.get("modules"),
            Some(&Value::List(vec!["patients".into(), "notes".into()]))
        );
        assert_eq!(answers.get("session_idle_minutes"), Some(&Value::Int(10)));
        assert_eq!(answers.get("ai_tools"), Some(&Value::List(vec![])));
    }

    #[test]
    fn bad_flags_are_refused_with_the_reason() {
        let cases = [
            ("tenancy", "unknown option `tenancy`"),
            ("colour=blue", "unknown option `colour` in --set"),
            ("tenancy=several", "`several` is not one of single, multi"),
            (
                "session_idle_minutes=0",
                "0 is out of range; expected 1 to 60",
            ),
            ("session_idle_minutes=61", "out of range"),
            (
                "session_absolute_hours=eight",
                "expected a whole number from 1 to 24",
            ),
            ("modules=notes", "must include `patients`"),
            ("ai_tools=vim", "`vim` is not one of"),
            (
                "data_residency=Switzerland",
                "is not a region label such as ch, eu, us or eu-west",
            ),
        ];
        for (flag, expected) in cases {
            let err = Answers::default()
                .apply_flags(&[flag.to_owned()])
                .unwrap_err()
                .to_string();
            if flag == "tenancy" {
                assert!(err.contains("KEY=VALUE"), "{flag}: {err}");
            } else {
                assert!(err.contains(expected), "{flag}: {err}");
            }
        }
    }

    #[test]
    fn answers_file_accepts_flat_and_recorded_forms() {
        let dir = tempfile::tempdir().unwrap();
        let flat = dir.path().join("flat.toml");
        std::fs::write(
            &flat,
            "tenancy = \"single\"\nsession_idle_minutes = 5\nmodules = [\"patients\"]\n",
        )
        .unwrap();
        let answers = Answers::from_file(&flat).unwrap();
        assert_eq!(answers.get("session_idle_minutes"), Some(&Value::Int(5)));
        assert_eq!(answers.missing().len(), OPTIONS.len() - 3);

        let recorded = dir.path().join("answers.toml");
        std::fs::write(
            &recorded,
            "[medforge]\ngenerator_version = \"0.1.0\"\n[answers]\ntls = \"proxy\"\n",
        )
        .unwrap();
        let answers = Answers::from_file(&recorded).unwrap();
        assert_eq!(answers.get("tls"), Some(&Value::Str("proxy".into())));
    }

    #[test]
    fn answers_file_errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("tenancy = ", "is not valid TOML"),
            ("colour = \"blue\"", "unknown option `colour` in"),
            ("session_idle_minutes = 90", "out of range"),
            ("session_idle_minutes = -1", "out of range"),
            ("modules = [1]", "expected strings"),
            ("tenancy = 3", "expected one of single, multi"),
        ];
        for (text, expected) in cases {
            let path = dir.path().join("answers.toml");
            std::fs::write(&path, text).unwrap();
            let err = Answers::from_file(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(err.contains("answers.toml"), "{text}: {err}");
        }
        let err = Answers::from_file(&dir.path().join("absent.toml")).unwrap_err();
        assert!(err.to_string().contains("cannot read answers file"));
    }

    #[test]
    fn the_policy_types_every_answer() {
        use crate::policy::{AiTool, KeyProvider, Mfa, Module, Regime, Tenancy, Tls, Ui};
        let defaults = Answers::defaults().policy();
        assert_eq!(defaults.regime, Regime::All);
        assert_eq!(defaults.tenancy, Tenancy::Multi);
        assert_eq!(defaults.mfa, Mfa::Totp);
        assert_eq!(
            (
                defaults.session_idle_minutes,
                defaults.session_absolute_hours
            ),
            (15, 8)
        );
        assert_eq!(defaults.modules.len(), Module::NAMES.len());
        assert_eq!(
            (defaults.tls, defaults.key_provider),
            (Tls::Rustls, KeyProvider::File)
        );
        assert_eq!(defaults.ai_tools.len(), AiTool::NAMES.len());
        assert_eq!(defaults.data_residency, "ch");
        assert_eq!(defaults.ui, Ui::Web);
        // Options without an answer read as their default.
        assert_eq!(Answers::default().policy(), defaults);

        let mut answers = Answers::default();
        answers
            .apply_flags(&[
                "regime=ndsg".into(),
                "tenancy=single".into(),
                "mfa=totp-all".into(),
                "session_idle_minutes=5".into(),
                "modules=notes,patients".into(),
                "tls=proxy".into(),
                "key_provider=env".into(),
                "ai_tools=zed,claude".into(),
                "data_residency=eu-west".into(),
                "ui=none".into(),
            ])
            .unwrap();
        let policy = answers.policy();
        assert_eq!(policy.regime, Regime::Ndsg);
        assert_eq!(policy.tenancy, Tenancy::Single);
        assert_eq!(policy.mfa, Mfa::TotpAll);
        assert_eq!(policy.session_idle_minutes, 5);
        assert_eq!(
            policy.modules.into_iter().collect::<Vec<_>>(),
            [Module::Patients, Module::Notes]
        );
        assert_eq!(
            (policy.tls, policy.key_provider),
            (Tls::Proxy, KeyProvider::Env)
        );
        assert_eq!(
            policy.ai_tools.into_iter().collect::<Vec<_>>(),
            [AiTool::Claude, AiTool::Zed]
        );
        assert_eq!(policy.data_residency, "eu-west");
        assert_eq!(policy.ui, Ui::ApiOnly);
    }

    #[test]
    fn template_values_carry_numbers_as_text() {
        let values = Answers::defaults().to_template_values();
        assert_eq!(values["session_idle_minutes"].as_str(), Some("15"));
        assert!(values["modules"].is_array());
    }
}
