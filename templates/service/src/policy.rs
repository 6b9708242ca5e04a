//! The answers given to `medforge new`, as constants: this project's policy.
//!
//! This is the one Rust file medforge fills in from the answers (besides the module lists
//! of `routes/` and `models/`, and `Cargo.toml`); the rest of the code branches on these
//! constants, so it reads the same in every project. They are recorded in
//! `.medforge/answers.toml`, and `medforge check` verifies that the session limits and
//! the TLS setting here are the recorded ones. The environment may tighten a limit but
//! never loosen it; to loosen one, change the answer (`medforge update --set ...`) so
//! that the change is on record.
//!
//! The crate's own name (the binary's, in messages that name a command) is Cargo's,
//! `env!("CARGO_PKG_NAME")`, from the `name` of `Cargo.toml`.

use std::fmt;

/// The project's name, as given to `medforge new`: authenticator apps show it as the
/// issuer of the TOTP codes.
pub const PROJECT_NAME: &str = "{{project-name}}";

/// The privacy regime(s) this project was generated for (the `regime` answer): `hipaa`,
/// `gdpr`, `ndsg` or `all`. The egress client holds each vendor to its agreements.
pub const REGIME: &str = "{{regime}}";

/// One clinic per database, or many isolated by row-level security (the `tenancy`
/// answer).
pub const TENANCY: Tenancy = Tenancy::{% if tenancy == "single" %}Single{% else %}Multi{% endif %};

/// Who needs a TOTP code (the `mfa` answer).
pub const MFA: Mfa = Mfa::{% if mfa == "totp-all" %}TotpAll{% else %}Totp{% endif %};

/// Minutes without a request before a session ends (the `session_idle_minutes` answer).
/// HIPAA 164.312(a)(2)(iii): automatic logoff.
pub const SESSION_IDLE_MINUTES: u64 = {{session_idle_minutes}};

/// Hours after login when a session ends however active it is (the
/// `session_absolute_hours` answer).
pub const SESSION_ABSOLUTE_HOURS: u64 = {{session_absolute_hours}};

/// How TLS reaches this service (the `tls` answer).
pub const TLS_TERMINATION: TlsTermination = TlsTermination::{% if tls == "proxy" %}Proxy{% else %}Rustls{% endif %};

/// Where the key-encryption key comes from (the `key_provider` answer).
pub const KEY_PROVIDER: KeyProvider = KeyProvider::{% if key_provider == "env" %}Env{% else %}File{% endif %};

/// Whether the service serves the web interface for clinic staff (the `ui` answer).
pub const UI: Ui = Ui::{% if ui == "none" %}ApiOnly{% else %}Web{% endif %};

/// Region label where patient data must stay (the `data_residency` answer). Logged at
/// startup, so an operator can hold a deployment against it.
pub const DATA_RESIDENCY: &str = "{{data_residency}}";

// The bounds `medforge options` gives these answers; a hand edit outside them does not compile.
const _: () = assert!(SESSION_IDLE_MINUTES >= 1 && SESSION_IDLE_MINUTES <= 60);
const _: () = assert!(SESSION_ABSOLUTE_HOURS >= 1 && SESSION_ABSOLUTE_HOURS <= 24);

// The in-process listener is compiled in (the `tls-rustls` feature, Cargo.toml) exactly
// when the service terminates TLS itself: a build without it would serve plain HTTP where
// the answer promises TLS 1.3.
const _: () = assert!(
    cfg!(feature = "tls-rustls") == matches!(TLS_TERMINATION, TlsTermination::Rustls),
    "the tls-rustls feature must be on exactly when TLS_TERMINATION is Rustls"
);

// The pages (the `web` feature, Cargo.toml) are compiled in exactly when the answer asks
// for them: an API-only project carries no page code and no template engine.
const _: () = assert!(
    cfg!(feature = "web") == matches!(UI, Ui::Web),
    "the web feature must be on exactly when UI is Web"
);

/// How many clinics a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenancy {
    /// One clinic per database.
    Single,
    /// Many clinics in one database, isolated by PostgreSQL row-level security.
    Multi,
}

/// Who needs a TOTP code besides a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mfa {
    /// Every role that reads PHI, and the admins.
    Totp,
    /// Every account, auditors included.
    TotpAll,
}

/// Where TLS is terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsTermination {
    /// TLS 1.3 in this process, with rustls.
    Rustls,
    /// A TLS proxy in front of the service terminates TLS and forwards plain HTTP.
    Proxy,
}

/// How clinic staff reach the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ui {
    /// Server-rendered pages on the service's own origin (src/web/), beside the API.
    Web,
    /// The JSON API only.
    ApiOnly,
}

/// Where the key-encryption key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProvider {
    /// A file readable by the service's user only (0600), named by a variable.
    File,
    /// A variable holding the key itself, set by the secret manager that starts the
    /// service.
    Env,
}

impl fmt::Display for TlsTermination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rustls => "rustls",
            Self::Proxy => "proxy",
        })
    }
}
