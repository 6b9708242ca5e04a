//! The one table of generator options (SPEC §3).
//!
//! Prompts, `--set`, the answers file, `medforge options` and the template's
//! `cargo-generate.toml` placeholders are all derived from [`OPTIONS`]; tests keep the
//! template's placeholders and conditional sections in step with it. The choices come
//! from the enums of [`crate::policy`], the typed form of the answers.

use serde::Serialize;

use crate::policy::{AiTool, KeyProvider, Mfa, Module, Regime, Tenancy, Tls, Ui};

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
    /// The template files that exist only for some answers: cargo-generate.toml's
    /// `[conditional]` sections leave them out otherwise (a test holds the two together).
    #[serde(skip)]
    pub files: &'static [Conditional],
}

/// Template files (or folders) that exist only when an answer says so.
#[derive(Debug, Clone, Copy)]
pub struct Conditional {
    pub when: When,
    /// Relative to the template's root, `/`-separated.
    pub files: &'static [&'static str],
}

/// When [`Conditional`] files exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The answer is this choice, or (for a list) holds it.
    Selected(&'static str),
    /// The list holds any choice at all.
    AnySelected,
}

pub const REGIME: OptionSpec = OptionSpec {
    key: "regime",
    kind: Kind::Choice {
        choices: Regime::NAMES,
    },
    default: Default::Str(Regime::DEFAULT.name()),
    prompt: "Privacy regime",
    help: "Which law the compliance docs and breach deadlines follow: HIPAA (US), GDPR (EU), \
           nDSG (Switzerland), or all of them (strictest deadline wins).",
    files: &[],
};

pub const TENANCY: OptionSpec = OptionSpec {
    key: "tenancy",
    kind: Kind::Choice {
        choices: Tenancy::NAMES,
    },
    default: Default::Str(Tenancy::DEFAULT.name()),
    prompt: "Tenancy",
    help: "single: one clinic per database. multi: many clinics in one database, isolated by \
           PostgreSQL row-level security.",
    files: &[],
};

pub const MFA: OptionSpec = OptionSpec {
    key: "mfa",
    kind: Kind::Choice {
        choices: Mfa::NAMES,
    },
    default: Default::Str(Mfa::DEFAULT.name()),
    prompt: "Multi-factor authentication",
    help: "totp: TOTP codes required for clinical roles (admin, clinician, staff). totp-all: \
           required for every account, auditors included.",
    files: &[],
};

pub const SESSION_IDLE_MINUTES: OptionSpec = OptionSpec {
    key: "session_idle_minutes",
    kind: Kind::Integer { min: 1, max: 60 },
    default: Default::Int(15),
    prompt: "Idle session timeout (minutes)",
    help: "A session unused this long ends on the server (HIPAA 164.312(a)(2)(iii) automatic \
           logoff).",
    files: &[],
};

pub const SESSION_ABSOLUTE_HOURS: OptionSpec = OptionSpec {
    key: "session_absolute_hours",
    kind: Kind::Integer { min: 1, max: 24 },
    default: Default::Int(8),
    prompt: "Absolute session lifetime (hours)",
    help: "A session ends this long after login, however active it is.",
    files: &[],
};

pub const MODULES: OptionSpec = OptionSpec {
    key: "modules",
    kind: Kind::MultiChoice {
        choices: Module::NAMES,
        required: &[Module::Patients.name()],
    },
    default: Default::List(Module::NAMES),
    prompt: "Clinical modules",
    help: "Which record types the service manages. patients is required: encounters, \
           appointments and notes belong to a patient. notes are clinician-only.",
    // Patients are the record every module refers to, so they are always generated.
    files: &[
        module_files(
            Module::Encounters,
            &[
                "migrations/0101_encounters.sql",
                "src/models/encounter.rs",
                "src/routes/encounters.rs",
                "src/web/encounters.rs",
                "tests/service/encounters.rs",
            ],
        ),
        module_files(
            Module::Appointments,
            &[
                "migrations/0102_appointments.sql",
                "src/models/appointment.rs",
                "src/routes/appointments.rs",
                "src/web/appointments.rs",
                "tests/service/appointments.rs",
            ],
        ),
        module_files(
            Module::Notes,
            &[
                "migrations/0103_notes.sql",
                "src/models/note.rs",
                "src/routes/notes.rs",
                "src/web/notes.rs",
                "src/web/templates/notes.html",
                "tests/service/notes.rs",
            ],
        ),
    ],
};

pub const TLS: OptionSpec = OptionSpec {
    key: "tls",
    kind: Kind::Choice {
        choices: Tls::NAMES,
    },
    default: Default::Str(Tls::DEFAULT.name()),
    prompt: "TLS termination",
    help: "rustls: the service terminates TLS 1.3 itself. proxy: a TLS proxy in front; the \
           service sends HSTS and refuses plain HTTP in production unless told it is behind \
           the proxy.",
    // The in-process listener and its tests; a `tls = proxy` project has neither.
    files: &[Conditional {
        when: When::Selected(Tls::Rustls.name()),
        files: &["src/tls.rs", "tests/service/tls.rs"],
    }],
};

pub const KEY_PROVIDER: OptionSpec = OptionSpec {
    key: "key_provider",
    kind: Kind::Choice {
        choices: KeyProvider::NAMES,
    },
    default: Default::Str(KeyProvider::DEFAULT.name()),
    prompt: "Key-encryption key provider",
    help: "file: the key-encryption key lives in a 0600 file outside the repository. env: \
           base64 from an environment variable (for secret managers that inject env).",
    files: &[],
};

pub const AI_TOOLS: OptionSpec = OptionSpec {
    key: "ai_tools",
    kind: Kind::MultiChoice {
        choices: AiTool::NAMES,
        required: &[],
    },
    default: Default::List(AiTool::NAMES),
    prompt: "AI coding tools to fence off from secrets and real data",
    help: "Each selected tool gets its deny-list and agent rules. Defense in depth: the real \
           protection is that no real PHI is ever in the workspace.",
    files: &[
        // AGENTS.md speaks to every agent (Codex reads nothing else).
        Conditional {
            when: When::AnySelected,
            files: &["AGENTS.md"],
        },
        ai_tool_files(AiTool::Cursor, &[".cursorignore"]),
        ai_tool_files(AiTool::Claude, &[".claude", "CLAUDE.md"]),
        ai_tool_files(
            AiTool::Copilot,
            &[
                ".github/copilot-instructions.md",
                "docs/copilot-content-exclusion.md",
            ],
        ),
        ai_tool_files(AiTool::Aider, &[".aiderignore"]),
        ai_tool_files(
            AiTool::Gemini,
            &[".geminiignore", "GEMINI.md", ".aiexclude"],
        ),
        ai_tool_files(AiTool::Jetbrains, &[".aiignore"]),
        ai_tool_files(AiTool::Windsurf, &[".codeiumignore"]),
        ai_tool_files(AiTool::Continue, &[".continueignore"]),
        ai_tool_files(AiTool::Zed, &[".zed"]),
    ],
};

pub const DATA_RESIDENCY: OptionSpec = OptionSpec {
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
    files: &[],
};

pub const UI: OptionSpec = OptionSpec {
    key: "ui",
    kind: Kind::Choice { choices: Ui::NAMES },
    default: Default::Str(Ui::DEFAULT.name()),
    prompt: "Web interface for clinic staff",
    help: "web: server-rendered pages on the service's own origin (strict CSP, no JavaScript \
           framework, no third-party origin), so nobody writes a single-page front end. \
           none: the JSON API only; no page code or template dependency is compiled in.",
    // The pages, their askama configuration, their tests and the screenshots the docs
    // show; an API-only project has none of them.
    files: &[Conditional {
        when: When::Selected(Ui::Web.name()),
        files: &[
            "src/web",
            "askama.toml",
            "tests/service/web",
            "docs/screenshots",
        ],
    }],
};

const fn module_files(module: Module, files: &'static [&'static str]) -> Conditional {
    Conditional {
        when: When::Selected(module.name()),
        files,
    }
}

const fn ai_tool_files(tool: AiTool, files: &'static [&'static str]) -> Conditional {
    Conditional {
        when: When::Selected(tool.name()),
        files,
    }
}

/// Every option, in the order prompts, `--set` help and answers files list them.
pub const OPTIONS: &[OptionSpec] = &[
    REGIME,
    TENANCY,
    MFA,
    SESSION_IDLE_MINUTES,
    SESSION_ABSOLUTE_HOURS,
    MODULES,
    TLS,
    KEY_PROVIDER,
    AI_TOOLS,
    DATA_RESIDENCY,
    UI,
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
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = OPTIONS.iter().map(|o| o.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), OPTIONS.len());
    }

    const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/service");

    fn cargo_generate_toml() -> toml::Table {
        let path = format!("{TEMPLATE}/cargo-generate.toml");
        std::fs::read_to_string(path).unwrap().parse().unwrap()
    }

    fn strings(value: &toml::Value) -> Vec<String> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// The template's cargo-generate placeholders are the same options, so plain
    /// `cargo generate` users get the same choices and secure defaults.
    #[test]
    fn cargo_generate_placeholders_match_the_option_table() {
        let config = cargo_generate_toml();
        let placeholders = config["placeholders"].as_table().unwrap();
        let keys: Vec<&str> = placeholders.keys().map(String::as_str).collect();
        let table_keys: Vec<&str> = OPTIONS.iter().map(|o| o.key).collect();
        assert_eq!(keys, table_keys, "same options, same order");

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

    /// The rhai condition under which cargo-generate leaves a declaration's files out.
    fn left_out_when(option: &OptionSpec, when: When) -> String {
        let key = option.key;
        match (option.kind, when) {
            (Kind::MultiChoice { .. }, When::Selected(choice)) => {
                format!("!(\"{choice}\" in {key})")
            }
            (Kind::MultiChoice { .. }, When::AnySelected) => format!("{key}.len() == 0"),
            (_, When::Selected(choice)) => format!("{key} != \"{choice}\""),
            (_, When::AnySelected) => panic!("{key}: only a list can hold any choice"),
        }
    }

    /// The template's `[conditional]` sections leave out exactly the files each option
    /// declares, under the answers it declares them for: `medforge check` reads the
    /// declarations (the AI tools' files), cargo-generate the sections.
    #[test]
    fn cargo_generate_conditions_match_the_declared_files() {
        type Conditions = BTreeMap<String, BTreeSet<String>>;
        let config = cargo_generate_toml();
        let template: Conditions = config["conditional"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(condition, section)| {
                let files = strings(&section["ignore"]);
                (condition.clone(), files.into_iter().collect())
            })
            .collect();
        let mut declared = Conditions::new();
        for option in OPTIONS {
            for conditional in option.files {
                let files = declared
                    .entry(left_out_when(option, conditional.when))
                    .or_default();
                files.extend(conditional.files.iter().map(|file| (*file).to_owned()));
            }
        }
        assert_eq!(
            template, declared,
            "templates/service/cargo-generate.toml [conditional] against the option table"
        );
    }

    /// The secure defaults are the all-options project, which scripts/template-dev renders
    /// for IDE work and the template's .sqlx data: they keep every declared file.
    #[test]
    fn the_defaults_keep_every_conditional_file() {
        for option in OPTIONS {
            for conditional in option.files {
                let kept = match (option.default, conditional.when) {
                    (Default::List(items), When::Selected(choice)) => items.contains(&choice),
                    (Default::List(items), When::AnySelected) => !items.is_empty(),
                    (Default::Str(value), When::Selected(choice)) => value == choice,
                    _ => false,
                };
                assert!(
                    kept,
                    "{}: the default leaves out {:?}",
                    option.key, conditional.files
                );
            }
        }
    }

    #[test]
    fn declared_files_name_a_choice_and_exist_in_the_template() {
        for option in OPTIONS {
            let choices = match option.kind {
                Kind::Choice { choices } | Kind::MultiChoice { choices, .. } => choices,
                _ => &[],
            };
            for conditional in option.files {
                if let When::Selected(choice) = conditional.when {
                    assert!(choices.contains(&choice), "{}: {choice}", option.key);
                }
                for file in conditional.files {
                    let path = Path::new(TEMPLATE).join(file);
                    assert!(
                        path.exists(),
                        "{}: {file} is not in the template",
                        option.key
                    );
                }
            }
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
