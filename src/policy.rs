//! The answers as types: [`Policy`] is what the rest of medforge reads, so a consumer
//! matches on `Tls::Proxy` instead of comparing the text of an option it looked up by
//! key. The choices of each option are declared here once; the option table
//! ([`crate::options`]) takes its choices, defaults and text from these enums, and
//! [`crate::answers::Answers::policy`] builds the policy from validated answers.

use std::collections::BTreeSet;

/// An option's choices as an enum: its variants and their names in answers and flags.
pub trait Choice: Copy + Ord + 'static {
    /// Every variant, in the option table's order.
    const ALL: &'static [Self];
    /// The name used in `--set`, answers files and the template.
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|choice| choice.name() == name)
    }
}

/// Declares an option's choices: the enum, its [`Choice`] implementation, and `NAMES`
/// (every name, in order) and `name()` for the option table's constants. A one-of option
/// names its secure default (`DEFAULT`, and `Default`); a list's default is in the table.
macro_rules! choices {
    (
        $(#[$doc:meta])*
        $name:ident (default $default:ident) $variants:tt
    ) => {
        choices! { $(#[$doc])* $name $variants }

        impl $name {
            /// The secure default.
            pub const DEFAULT: $name = $name::$default;
        }

        impl Default for $name {
            fn default() -> $name {
                $name::DEFAULT
            }
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident {
            $($(#[$variant_doc:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$variant_doc])* $variant,)+
        }

        impl $name {
            /// Every name, in the option table's order.
            pub const NAMES: &'static [&'static str] = &[$($text,)+];

            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl Choice for $name {
            const ALL: &'static [$name] = &[$($name::$variant,)+];

            fn name(self) -> &'static str {
                $name::name(self)
            }
        }
    };
}

choices! {
    /// Which law the compliance docs and breach deadlines follow.
    Regime (default All) {
        Hipaa => "hipaa",
        Gdpr => "gdpr",
        /// Switzerland's nDSG.
        Ndsg => "ndsg",
        /// Every regime; the strictest deadline wins.
        All => "all",
    }
}

choices! {
    /// One clinic per database, or many isolated by row-level security.
    Tenancy (default Multi) {
        Single => "single",
        Multi => "multi",
    }
}

choices! {
    /// Who must use TOTP.
    Mfa (default Totp) {
        /// The clinical roles (admin, clinician, staff).
        Totp => "totp",
        /// Every account, auditors included.
        TotpAll => "totp-all",
    }
}

choices! {
    /// The clinical record types the service manages.
    Module {
        /// Always present: every other module belongs to a patient.
        Patients => "patients",
        Encounters => "encounters",
        Appointments => "appointments",
        Notes => "notes",
    }
}

choices! {
    /// Where TLS is terminated.
    Tls (default Rustls) {
        /// TLS 1.3 in the service itself.
        Rustls => "rustls",
        /// A TLS proxy in front of the service.
        Proxy => "proxy",
    }
}

choices! {
    /// Where the key-encryption key comes from.
    KeyProvider (default File) {
        /// A 0600 file outside the repository.
        File => "file",
        /// Base64 in an environment variable.
        Env => "env",
    }
}

choices! {
    /// The AI coding tools whose deny-lists and agent rules the project gets.
    AiTool {
        Cursor => "cursor",
        Claude => "claude",
        Copilot => "copilot",
        Aider => "aider",
        Gemini => "gemini",
        Jetbrains => "jetbrains",
        Windsurf => "windsurf",
        Continue => "continue",
        Zed => "zed",
        /// Reads AGENTS.md, which every selection with any tool gets.
        Codex => "codex",
    }
}

choices! {
    /// How clinic staff reach the service (SPEC 4.5).
    Ui (default Web) {
        /// Server-rendered pages on the service's own origin, beside the JSON API.
        Web => "web",
        /// The JSON API only: no page code and no template engine compiled in. Not
        /// `None`, which would read as `Option::None` in a match.
        ApiOnly => "none",
    }
}

/// Every answer, typed: one field per option of the option table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub regime: Regime,
    pub tenancy: Tenancy,
    pub mfa: Mfa,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub modules: BTreeSet<Module>,
    pub tls: Tls,
    pub key_provider: KeyProvider,
    pub ai_tools: BTreeSet<AiTool>,
    /// The region label patient data must stay in, e.g. `ch` or `eu-west`.
    pub data_residency: String,
    pub ui: Ui,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_round_trip<T: Choice + std::fmt::Debug>(names: &[&str]) {
        let all: Vec<&str> = T::ALL.iter().map(|choice| choice.name()).collect();
        assert_eq!(all, names);
        for choice in T::ALL {
            assert_eq!(T::from_name(choice.name()), Some(*choice));
        }
        assert_eq!(T::from_name("no-such-choice"), None);
    }

    #[test]
    fn every_choice_reads_back_from_its_name() {
        names_round_trip::<Regime>(Regime::NAMES);
        names_round_trip::<Tenancy>(Tenancy::NAMES);
        names_round_trip::<Mfa>(Mfa::NAMES);
        names_round_trip::<Module>(Module::NAMES);
        names_round_trip::<Tls>(Tls::NAMES);
        names_round_trip::<KeyProvider>(KeyProvider::NAMES);
        names_round_trip::<AiTool>(AiTool::NAMES);
        names_round_trip::<Ui>(Ui::NAMES);
        assert_eq!(Ui::NAMES, ["web", "none"]);
        assert_eq!(Ui::DEFAULT, Ui::Web);
    }
}
