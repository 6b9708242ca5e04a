//! The one table of generator options (SPEC §3).
//!
//! Prompts, `--set`, the answers file, `medforge options` and the template's
//! `cargo-generate.toml` placeholders are all derived from [`OPTIONS`]; a test keeps the
//! template in step with it.

use serde::Serialize;

/// What values an option accepts.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Kind {
    /// Exactly one of the choices.
    Choice { choices: &'static [&'static str] },
    /// Any subset of the choices (`required` ones must be present).
    MultiChoice {
        choices: &'static [&'static str],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        required: &'static [&'static str],
    },
    /// A whole number within bounds.
    Integer { min: u32, max: u32 },
    /// A short label matching `pattern` (a regular expression, anchored).
    Text {
        pattern: &'static str,
        /// What a valid value looks like, in words, for messages: people read "a region
        /// label such as ch", not a regular expression.
        expected: &'static str,
        #[serde(skip)]
        validate: fn(&str) -> bool,
    },
}

/// A default value, typed like the option.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Default {
    Str(&'static str),
    Int(u32),
    List(&'static [&'static str]),
}

#[derive(Debug, Serialize)]
pub struct OptionSpec {
    pub key: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
    pub default: Default,
    /// The question asked at the prompt.
    pub prompt: &'static str,
    /// Why the option matters and what the secure choice is.
    pub help: &'static str,
}

const MODULES: &[&str] = &["patients", "encounters", "appointments", "notes"];
const AI_TOOLS: &[&str] = &[
    "cursor",
    "claude",
    "copilot",
    "aider",
    "gemini",
    "jetbrains",
    "windsurf",
    "continue",
    "zed",
    "codex",
];

pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        key: "regime",
        kind: Kind::Choice {
            choices: &["hipaa", "gdpr", "ndsg", "all"],
        },
        default: Default::Str("all"),
        prompt: "Privacy regime",
        help: "Which law the compliance docs and breach deadlines follow: HIPAA (US), GDPR (EU), \
               nDSG (Switzerland), or all of them (strictest deadline wins).",
    },
    OptionSpec {
        key: "tenancy",
        kind: Kind::Choice {
            choices: &["single", "multi"],
        },
        default: Default::Str("multi"),
        prompt: "Tenancy",
        help: "single: one clinic per database. multi: many clinics in one database, isolated by \
               PostgreSQL row-level security.",
    },
    OptionSpec {
        key: "mfa",
        kind: Kind::Choice {
            choices: &["totp", "totp-all"],
        },
        default: Default::Str("totp"),
        prompt: "Multi-factor authentication",
        help: "totp: TOTP codes required for clinical roles (admin, clinician, staff). totp-all: \
               required for every account, auditors included.",
    },
    OptionSpec {
        key: "session_idle_minutes",
        kind: Kind::Integer { min: 1, max: 60 },
        default: Default::Int(15),
        prompt: "Idle session timeout (minutes)",
        help: "A session unused this long ends on the server (HIPAA 164.312(a)(2)(iii) automatic \
               logoff).",
    },
    OptionSpec {
        key: "session_absolute_hours",
        kind: Kind::Integer { min: 1, max: 24 },
        default: Default::Int(8),
        prompt: "Absolute session lifetime (hours)",
        help: "A session ends this long after login, however active it is.",
    },
    OptionSpec {
        key: "modules",
        kind: Kind::MultiChoice {
            choices: MODULES,
            required: &["patients"],
        },
        default: Default::List(MODULES),
        prompt: "Clinical modules",
        help: "Which record types the service manages. patients is required: encounters, \
               appointments and notes belong to a patient. notes are clinician-only.",
    },
    OptionSpec {
        key: "tls",
        kind: Kind::Choice {
            choices: &["rustls", "proxy"],
        },
        default: Default::Str("rustls"),
        prompt: "TLS termination",
        help: "rustls: the service terminates TLS 1.3 itself. proxy: a TLS proxy in front; the \
               service sends HSTS and refuses plain HTTP in production unless told it is behind \
               the proxy.",
    },
    OptionSpec {
        key: "key_provider",
        kind: Kind::Choice {
            choices: &["file", "env"],
        },
        default: Default::Str("file"),
        prompt: "Key-encryption key provider",
        help: "file: the key-encryption key lives in a 0600 file outside the repository. env: \
               base64 from an environment variable (for secret managers that inject env).",
    },
    OptionSpec {
        key: "ai_tools",
        kind: Kind::MultiChoice {
            choices: AI_TOOLS,
            required: &[],
        },
        default: Default::List(AI_TOOLS),
        prompt: "AI coding tools to fence off from secrets and real data",
        help: "Each selected tool gets its deny-list and agent rules. Defense in depth: the real \
               protection is that no real PHI is ever in the workspace.",
    },
    OptionSpec {
        key: "data_residency",
        kind: Kind::Text {
            pattern: "^[a-z]{2}(-[a-z0-9]{1,8})?$",
            expected: "a region label such as ch, eu, us or eu-west",
            validate: is_region_label,
        },
        default: Default::Str("ch"),
        prompt: "Data residency region",
        help: "Region label where patient data must stay, e.g. ch, eu, us, eu-west. Outbound \
               vendors outside it are refused.",
    },
];

/// Looks an option up by key.
pub fn find(key: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|option| option.key == key)
}

/// Every key, for error messages.
pub fn known_keys() -> String {
    OPTIONS
        .iter()
        .map(|option| option.key)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `^[a-z]{2}(-[a-z0-9]{1,8})?$`, checked by hand to keep regex out of the binary.
fn is_region_label(label: &str) -> bool {
    let (region, sub) = match label.split_once('-') {
        Some((region, sub)) => (region, Some(sub)),
        None => (label, None),
    };
    let region_ok = region.len() == 2 && region.bytes().all(|b| b.is_ascii_lowercase());
    let sub_ok = sub.is_none_or(|sub| {
        (1..=8).contains(&sub.len())
            && sub
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    region_ok && sub_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = OPTIONS.iter().map(|o| o.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), OPTIONS.len());
    }

    /// The template's cargo-generate placeholders are the same options, so plain
    /// `cargo generate` users get the same choices and secure defaults.
    #[test]
    fn cargo_generate_placeholders_match_the_option_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/service/cargo-generate.toml"
        );
        let config: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
        let placeholders = config["placeholders"].as_table().unwrap();
        let keys: Vec<&str> = placeholders.keys().map(String::as_str).collect();
        let table_keys: Vec<&str> = OPTIONS.iter().map(|o| o.key).collect();
        assert_eq!(keys, table_keys, "same options, same order");

        let strings = |value: &toml::Value| -> Vec<String> {
            value
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        for option in OPTIONS {
            let placeholder = placeholders[option.key].as_table().unwrap();
            let kind = placeholder["type"].as_str().unwrap();
            let key = option.key;
            match option.kind {
                Kind::Choice { choices } => {
                    assert_eq!(kind, "string", "{key}");
                    assert_eq!(strings(&placeholder["choices"]), choices, "{key}");
                }
                Kind::MultiChoice { choices, .. } => {
                    assert_eq!(kind, "array", "{key}");
                    assert_eq!(strings(&placeholder["choices"]), choices, "{key}");
                }
                Kind::Integer { .. } => {
                    assert_eq!(kind, "string", "{key}");
                    assert!(
                        placeholder.contains_key("regex"),
                        "{key} needs a range regex"
                    );
                }
                Kind::Text { pattern, .. } => {
                    assert_eq!(kind, "string", "{key}");
                    assert_eq!(placeholder["regex"].as_str(), Some(pattern), "{key}");
                }
            }
            let default = match option.default {
                Default::Str(s) => toml::Value::from(s),
                Default::Int(n) => toml::Value::from(n.to_string()),
                Default::List(items) => toml::Value::from(items.to_vec()),
            };
            assert_eq!(placeholder["default"], default, "{key}");
        }
    }

    #[test]
    fn region_labels() {
        for good in ["ch", "eu", "us", "eu-west", "us-east1"] {
            assert!(is_region_label(good), "{good}");
        }
        for bad in [
            "",
            "c",
            "CH",
            "che",
            "eu-",
            "eu-westwestx",
            "e1",
            "eu_west",
            "ch-Zh",
        ] {
            assert!(!is_region_label(bad), "{bad}");
        }
    }
}
