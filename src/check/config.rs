//! The policy constants of `src/policy.rs`: the session timeouts, the TLS setting and the
//! web-interface setting must equal the recorded answers, and the recorded timeouts must be
//! in range.

use std::path::Path;

use super::{Context, Family, Finding, Rule};
use crate::answers::{Answers, Origin, Value};
use crate::error::Result;
use crate::fs::read_optional_text;
use crate::options::{self, OptionSpec};
use crate::policy::{Policy, Tls, Ui};
use crate::record::{self, Record};

pub const SESSION_TIMEOUTS: Rule = Rule {
    id: "session-timeouts",
    title: "Session timeouts are within bounds and match the answers",
    help: "HIPAA 164.312(a)(2)(iii): src/policy.rs SESSION_IDLE_MINUTES and \
           SESSION_ABSOLUTE_HOURS equal the recorded answers (1-60 minutes, 1-24 hours). \
           Change them with `medforge update --set`.",
};

pub const TLS_SETTING: Rule = Rule {
    id: "tls-setting",
    title: "The TLS setting matches the answer",
    help: "HIPAA 164.312(e)(1): src/policy.rs TLS_TERMINATION equals the recorded `tls` \
           answer. Change it with `medforge update --set tls=...`.",
};

pub const UI_SETTING: Rule = Rule {
    id: "ui-setting",
    title: "The web-interface setting matches the answer",
    help: "src/policy.rs UI equals the recorded `ui` answer, so the pages for clinic staff \
           (the `web` feature, which the file asserts agrees) are compiled in exactly when \
           the project was generated with them. Change it with `medforge update --set ui=...`.",
};

pub const FAMILY: Family = Family {
    rules: &[SESSION_TIMEOUTS, TLS_SETTING, UI_SETTING],
    check,
};

/// A timeout option, the constant of `src/policy.rs` that holds it, and its answer.
struct Timeout {
    spec: &'static OptionSpec,
    constant: &'static str,
    answer: fn(&Policy) -> u32,
}

const TIMEOUTS: &[Timeout] = &[
    Timeout {
        spec: &options::SESSION_IDLE_MINUTES,
        constant: "SESSION_IDLE_MINUTES",
        answer: |policy| policy.session_idle_minutes,
    },
    Timeout {
        spec: &options::SESSION_ABSOLUTE_HOURS,
        constant: "SESSION_ABSOLUTE_HOURS",
        answer: |policy| policy.session_absolute_hours,
    },
];

/// A one-of option that `src/policy.rs` holds as a variant of the project's own enum.
struct Setting {
    rule: &'static str,
    spec: &'static OptionSpec,
    constant: &'static str,
    /// The project's enum, for messages.
    enum_name: &'static str,
    /// The variant of that enum the answer is written as (the template's liquid picks it).
    variant: fn(&Policy) -> &'static str,
    /// The answer's name, as recorded.
    answer: fn(&Policy) -> &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting {
        rule: TLS_SETTING.id,
        spec: &options::TLS,
        constant: "TLS_TERMINATION",
        enum_name: "TlsTermination",
        variant: |policy| match policy.tls {
            Tls::Rustls => "Rustls",
            Tls::Proxy => "Proxy",
        },
        answer: |policy| policy.tls.name(),
    },
    Setting {
        rule: UI_SETTING.id,
        spec: &options::UI,
        constant: "UI",
        enum_name: "Ui",
        variant: |policy| match policy.ui {
            Ui::Web => "Web",
            Ui::ApiOnly => "ApiOnly",
        },
        answer: |policy| policy.ui.name(),
    },
];

/// The recorded answers. A timeout out of range is a finding (the rest of the checks
/// still run, with the default in its place); any other bad answer stops the check.
pub fn recorded_answers(record: &Record, findings: &mut Vec<Finding>) -> Result<Answers> {
    let mut raw = record.raw_answers.clone();
    let record_file = format!("{}/{}", record::RECORD_DIR, record::RECORD_FILE);
    let text = std::fs::read_to_string(&record.path).unwrap_or_default();
    for Timeout { spec, .. } in TIMEOUTS {
        let key = spec.key;
        if let Some(value) = raw.get(key)
            && let Err(e) = Value::from_toml(spec, value, Origin::File(Path::new(&record_file)))
        {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1);
            findings.push(Finding::at(
                SESSION_TIMEOUTS.id,
                &record_file,
                line,
                format!("{e}; record a value in range with `medforge update --set {key}=N`"),
            ));
            raw.remove(key);
        }
    }
    let mut answers = Answers::from_table(&raw, Origin::File(&record.path))?;
    answers.fill_defaults();
    Ok(answers)
}

const CONFIG_FILE: &str = "src/policy.rs";

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let Some(text) = read_optional_text(&ctx.project.join(CONFIG_FILE))? else {
        return Ok(vec![Finding::in_file(
            SESSION_TIMEOUTS.id,
            CONFIG_FILE,
            format!(
                "is missing, so the session timeouts, the TLS setting and the web-interface \
                 setting are not enforced; restore it from .medforge/base/{CONFIG_FILE}"
            ),
        )]);
    };
    let mut findings = Vec::new();
    // `want` is the value the constant must hold; `answer` is the recorded answer as a
    // person reads it.
    let mut expect = |rule: &'static str, name: &str, key: &str, want: ConstValue, answer: &str| {
        let shown = |value: &ConstValue| match value {
            ConstValue::Int(n) => n.to_string(),
            ConstValue::Variant(v) => v.clone(),
            ConstValue::Other(text) => text.clone(),
        };
        match constant(&text, name) {
            None => findings.push(Finding::in_file(
                rule,
                CONFIG_FILE,
                format!(
                    "has no `const {name}`; put it back with the recorded answer ({key} = \
                     {answer}), or restore the file from .medforge/base/{CONFIG_FILE}"
                ),
            )),
            Some(constant) if constant.value != want => findings.push(Finding::at(
                rule,
                CONFIG_FILE,
                constant.line,
                format!(
                    "`{name}` is {}, but the recorded answer is {key} = {answer}; change the \
                     answer with `medforge update --set {key}=...` rather than the constant",
                    shown(&constant.value)
                ),
            )),
            Some(_) => {}
        }
    };
    for timeout in TIMEOUTS {
        let minutes_or_hours = u64::from((timeout.answer)(ctx.policy));
        expect(
            SESSION_TIMEOUTS.id,
            timeout.constant,
            timeout.spec.key,
            ConstValue::Int(minutes_or_hours),
            &minutes_or_hours.to_string(),
        );
    }
    for setting in SETTINGS {
        let variant = (setting.variant)(ctx.policy);
        expect(
            setting.rule,
            setting.constant,
            setting.spec.key,
            ConstValue::Variant(variant.to_owned()),
            &format!(
                "{} ({}::{variant})",
                (setting.answer)(ctx.policy),
                setting.enum_name
            ),
        );
    }
    Ok(findings)
}

/// A `const NAME: T = value;` of `src/policy.rs`: its value as written and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constant {
    pub value: ConstValue,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstValue {
    Int(u64),
    /// A path such as `TlsTermination::Rustls`: its last segment.
    Variant(String),
    /// Anything else, as text.
    Other(String),
}

/// Finds the top-level constant `name` in `text`; `None` when absent or unparsable.
pub fn constant(text: &str, name: &str) -> Option<Constant> {
    let file = syn::parse_file(text).ok()?;
    file.items.iter().find_map(|item| match item {
        syn::Item::Const(c) if c.ident == name => Some(Constant {
            line: c.ident.span().start().line,
            value: match &*c.expr {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                }) => int
                    .base10_parse()
                    .map_or_else(|_| ConstValue::Other(int.to_string()), ConstValue::Int),
                syn::Expr::Path(path) => ConstValue::Variant(
                    path.path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                ),
                other => ConstValue::Other(quote_expr(other)),
            },
        }),
        _ => None,
    })
}

fn quote_expr(expr: &syn::Expr) -> String {
    use quote::ToTokens;
    expr.to_token_stream().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_constants_are_read_with_their_lines() {
        let text = "//! c\npub const TLS_TERMINATION: TlsTermination = TlsTermination::Proxy;\n\
                    pub const SESSION_IDLE_MINUTES: u64 = 15;\nconst X: u64 = 2 * 3;\n";
        assert_eq!(
            constant(text, "TLS_TERMINATION"),
            Some(Constant {
                value: ConstValue::Variant("Proxy".into()),
                line: 2
            })
        );
        assert_eq!(
            constant(text, "SESSION_IDLE_MINUTES"),
            Some(Constant {
                value: ConstValue::Int(15),
                line: 3
            })
        );
        assert!(matches!(
            constant(text, "X").unwrap().value,
            ConstValue::Other(_)
        ));
        assert_eq!(constant(text, "MISSING"), None);
    }
}
