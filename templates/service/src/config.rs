//! Service configuration, read once at startup from environment variables.
//!
//! The answers given to `medforge new` are the constants below. They are this project's
//! policy: recorded in `.medforge/answers.toml` and verified by `medforge check`. The
//! environment may tighten a limit but never loosen it; to loosen one, change the answer
//! (`medforge update --set ...`) so that the change is on record.

use crate::crypto::{Kek, KekRing};
use crate::db::Deployment;

use std::{
    env, fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

/// How TLS reaches this service (the `tls` answer).
pub const TLS_TERMINATION: TlsTermination = TlsTermination::{% if tls == "proxy" %}Proxy{% else %}Rustls{% endif %};

/// Minutes without a request before a session ends (the `session_idle_minutes` answer).
/// HIPAA 164.312(a)(2)(iii): automatic logoff.
pub const SESSION_IDLE_MINUTES: u64 = {{session_idle_minutes}};

/// Hours after login when a session ends however active it is (the
/// `session_absolute_hours` answer).
pub const SESSION_ABSOLUTE_HOURS: u64 = {{session_absolute_hours}};

/// Region label where patient data must stay (the `data_residency` answer). Logged at
/// startup, so an operator can hold a deployment against it.
pub const DATA_RESIDENCY: &str = "{{data_residency}}";

/// Where the key-encryption key comes from (the `key_provider` answer):
{%- if key_provider == "file" %}
/// the path of a file that holds it in base64, readable by the service's user only (0600).
{%- else %}
/// its base64 in an environment variable, set by the secret manager that starts the service.
{%- endif %}
pub const KEK_VARIABLE: &str = "KEY_ENCRYPTION_KEY{% if key_provider == "file" %}_FILE{% endif %}";

/// The key-encryption key being replaced, set only while `rotate-keys` moves the data keys
/// to the current one (README.md, "Encryption keys").
pub const PREVIOUS_KEK_VARIABLE: &str = "PREVIOUS_KEY_ENCRYPTION_KEY{% if key_provider == "file" %}_FILE{% endif %}";

/// Where the service listens unless `BIND_ADDR` says otherwise: loopback only.
pub const DEFAULT_BIND_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);

// The bounds `medforge options` gives these answers; a hand edit outside them does not compile.
const _: () = assert!(SESSION_IDLE_MINUTES >= 1 && SESSION_IDLE_MINUTES <= 60);
const _: () = assert!(SESSION_ABSOLUTE_HOURS >= 1 && SESSION_ABSOLUTE_HOURS <= 24);

/// Where TLS is terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsTermination {
    /// TLS 1.3 in this process, with rustls.
    Rustls,
    /// A TLS proxy in front of the service terminates TLS and forwards plain HTTP.
    Proxy,
}

/// Development serves plain HTTP on loopback with synthetic data; production refuses to
/// start unless every safety check passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// The PEM files of the in-process TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `TLS_CERT_FILE`: the certificate chain, leaf first.
    pub cert: PathBuf,
    /// `TLS_KEY_FILE`: the private key (PKCS#8, PKCS#1 or SEC1); readable by the service only.
    pub key: PathBuf,
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `APP_ENV`: `development` (the default) or `production`. Unset is development, and
    /// `serve` refuses a database marked production unless this is production
    /// ([`check_deployment`]): forgetting it fails closed.
    pub environment: Environment,
    /// `BIND_ADDR`: the address the HTTP listener binds.
    pub bind_addr: SocketAddr,
    /// Where TLS is terminated; fixed when the project was generated.
    pub tls: TlsTermination,
    /// `BEHIND_TLS_PROXY`: the operator's statement that a TLS proxy is in front.
    pub behind_tls_proxy: bool,
    /// `TLS_CERT_FILE` and `TLS_KEY_FILE`: the PEM certificate chain and private key the
    /// in-process TLS 1.3 listener serves (`tls = rustls` only). Required in production.
    pub tls_files: Option<TlsFiles>,
    /// `SESSION_IDLE_MINUTES`: at most [`SESSION_IDLE_MINUTES`].
    pub session_idle: Duration,
    /// `SESSION_ABSOLUTE_HOURS`: at most [`SESSION_ABSOLUTE_HOURS`].
    pub session_absolute: Duration,
    /// Where patient data must stay; fixed when the project was generated.
    pub data_residency: &'static str,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated exact origins (`https://app.example.org`)
    /// whose scripts may call the API. Empty, the default: no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
    /// The key-encryption keys ([`KEK_VARIABLE`], [`PREVIOUS_KEK_VARIABLE`]). Development
    /// without one runs on the published development key; production refuses it.
    pub keks: KekRing,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| {
            env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// Reads the variables from `lookup`, so tests need not touch the process environment.
    ///
    /// Every variable is read and checked even after one fails, so one start reports every
    /// problem at once. An `APP_ENV` the service does not know is reported, and the rest
    /// is checked as in development: the checks every mode shares.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut problems = Problems::default();

        let environment = problems.keep(match lookup("APP_ENV").as_deref() {
            None | Some("development") => Ok(Environment::Development),
            Some("production") => Ok(Environment::Production),
            Some(other) => Err(invalid("APP_ENV", other, "development or production")),
        });
        let checked_as = environment.unwrap_or(Environment::Development);
        let bind_addr = problems.keep(match lookup("BIND_ADDR") {
            None => Ok(DEFAULT_BIND_ADDR),
            Some(value) => value.parse().map_err(|_| {
                invalid(
                    "BIND_ADDR",
                    &value,
                    "an address and port, e.g. 127.0.0.1:3000",
                )
            }),
        });
        let behind_tls_proxy = problems.keep(match lookup("BEHIND_TLS_PROXY").as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(invalid("BEHIND_TLS_PROXY", other, "true or false")),
        });
        let tls_files = problems.keep(match (lookup("TLS_CERT_FILE"), lookup("TLS_KEY_FILE")) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) if !cert.is_empty() && !key.is_empty() => Ok(Some(TlsFiles {
                cert: PathBuf::from(cert),
                key: PathBuf::from(key),
            })),
            _ => Err(ConfigError::TlsFilesIncomplete),
        });
        let idle_minutes = problems.keep(at_most(
            &lookup,
            "SESSION_IDLE_MINUTES",
            SESSION_IDLE_MINUTES,
        ));
        let absolute_hours = problems.keep(at_most(
            &lookup,
            "SESSION_ABSOLUTE_HOURS",
            SESSION_ABSOLUTE_HOURS,
        ));
        let cors_allowed_origins = problems.keep(match lookup("CORS_ALLOWED_ORIGINS") {
            None => Ok(Vec::new()),
            Some(value) => cors_origins(checked_as, &value),
        });
        // Whether TLS is accounted for can be judged only from two readable answers.
        if let (Some(behind_tls_proxy), Some(tls_files)) = (behind_tls_proxy, &tls_files) {
            problems.keep(check_transport(
                checked_as,
                TLS_TERMINATION,
                behind_tls_proxy,
                tls_files.is_some(),
            ));
        }
        for name in ["DATABASE_URL", "MIGRATION_DATABASE_URL"] {
            if let Some(url) = lookup(name) {
                problems.keep(check_database_tls(checked_as, name, &url));
            }
        }
        let keks = key_encryption_keys(checked_as, &lookup, &mut problems);

        match (
            environment,
            bind_addr,
            behind_tls_proxy,
            tls_files,
            idle_minutes,
            absolute_hours,
            cors_allowed_origins,
            keks,
        ) {
            (
                Some(environment),
                Some(bind_addr),
                Some(behind_tls_proxy),
                Some(tls_files),
                Some(idle_minutes),
                Some(absolute_hours),
                Some(cors_allowed_origins),
                Some(keks),
            ) if problems.0.is_empty() => Ok(Self {
                environment,
                bind_addr,
                tls: TLS_TERMINATION,
                behind_tls_proxy,
                tls_files,
                session_idle: Duration::from_secs(idle_minutes * 60),
                session_absolute: Duration::from_secs(absolute_hours * 3600),
                data_residency: DATA_RESIDENCY,
                cors_allowed_origins,
                keks,
            }),
            _ => Err(ConfigErrors(problems.0)),
        }
    }
}

/// The problems found so far in one reading of the environment.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    /// The value of `result`, or `None` with its error noted.
    fn keep<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|problem| self.add(problem)).ok()
    }

    fn add(&mut self, problem: ConfigError) {
        self.0.push(problem);
    }
}

/// The KEK ring from the key provider. Production refuses to start without a key or with
/// the development key, which is public. HIPAA 164.312(a)(2)(iv).
fn key_encryption_keys(
    environment: Environment,
    lookup: &impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<KekRing> {
    let current = problems.keep(read_kek(lookup, KEK_VARIABLE));
    let previous = problems.keep(read_kek(lookup, PREVIOUS_KEK_VARIABLE));
    let current = match (current?, environment) {
        (Some(kek), _) => kek,
        (None, Environment::Development) => Kek::development(),
        (None, Environment::Production) => {
            problems.add(ConfigError::KekMissing(KEK_VARIABLE));
            return None;
        }
    };
    let previous = previous?;
    if environment == Environment::Production {
        if current.is_development() {
            problems.add(ConfigError::DevelopmentKek(KEK_VARIABLE));
        }
        if previous.as_ref().is_some_and(Kek::is_development) {
            problems.add(ConfigError::DevelopmentKek(PREVIOUS_KEK_VARIABLE));
        }
    }
    Some(KekRing { current, previous })
}
{%- if key_provider == "file" %}

/// The key in the file the variable `name` names. The file must be readable by its owner
/// only: a key any local user can read protects nothing.
fn read_kek(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Kek>, ConfigError> {
    let Some(path) = lookup(name).filter(|path| !path.is_empty()) else {
        return Ok(None);
    };
    let unreadable = |reason: String| ConfigError::KekUnreadable {
        name,
        path: path.clone(),
        reason,
    };
    let metadata = std::fs::metadata(&path).map_err(|error| unreadable(error.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(ConfigError::KekFileTooOpen {
                name,
                path: path.clone(),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(&path).map_err(|error| unreadable(error.to_string()))?;
    Kek::from_base64(&text)
        .map(Some)
        .map_err(|_| ConfigError::KekInvalid(name))
}
{%- else %}

/// The key in the variable `name`, in base64.
fn read_kek(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Kek>, ConfigError> {
    match lookup(name).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => Kek::from_base64(&text)
            .map(Some)
            .map_err(|_| ConfigError::KekInvalid(name)),
    }
}
{%- endif %}

/// In production the database connection must be encrypted and the server proven to be
/// the one named in the URL: `sslmode=verify-full`. `require` and `verify-ca` encrypt but
/// accept any server (`verify-ca`: any with a certificate from the CA, whatever its name),
/// so whoever sits on the path can pose as the database; `prefer` and `allow` fall back to
/// plain text without a word. HIPAA 164.312(e)(1) transmission security; OWASP ASVS 9.2.2.
pub fn check_database_tls(
    environment: Environment,
    name: &'static str,
    url: &str,
) -> Result<(), ConfigError> {
    if environment == Environment::Development {
        return Ok(());
    }
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let sslmode = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| matches!(*key, "sslmode" | "ssl-mode"))
        .map(|(_, value)| value.to_ascii_lowercase())
        .next_back();
    match sslmode.as_deref() {
        Some("verify-full") => Ok(()),
        _ => Err(ConfigError::DatabaseWithoutVerifiedTls(name)),
    }
}

/// The database says what it serves (its `deployment` row, which `migrate` sets from
/// `APP_ENV`), and `serve` must agree with it. A database marked production refuses a
/// service that is not in production mode, `APP_ENV` unset included: a production deploy
/// that forgets `APP_ENV` stops here instead of serving plain HTTP, skipping the
/// database's TLS and wrapping new clinic keys under the public development key.
/// Production serves only a database marked production, so none that `seed` would
/// fill with synthetic data. Development serves a database marked development or
/// unmarked. HIPAA 164.308(a)(1)(ii)(B) risk management; OWASP ASVS 14.1.1.
pub fn check_deployment(
    environment: Environment,
    deployment: Deployment,
) -> Result<(), ConfigError> {
    match (environment, deployment) {
        (Environment::Production, Deployment::Production)
        | (Environment::Development, Deployment::Development | Deployment::Unmarked) => Ok(()),
        (Environment::Development, Deployment::Production) => {
            Err(ConfigError::ProductionDatabaseOutsideProduction)
        }
        (Environment::Production, marked) => Err(ConfigError::DatabaseNotMarkedProduction(marked)),
    }
}

/// The CORS allowlist: exact origins (scheme, host, optional port; no path, no
/// wildcard), https only in production. OWASP ASVS 14.5.3.
fn cors_origins(environment: Environment, value: &str) -> Result<Vec<String>, ConfigError> {
    let expected = if environment == Environment::Production {
        "comma-separated exact https origins, e.g. https://app.example.org"
    } else {
        "comma-separated exact origins, e.g. https://app.example.org"
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| {
                    (environment == Environment::Development)
                        .then(|| origin.strip_prefix("http://"))
                        .flatten()
                })
                .unwrap_or("");
            let valid = !host.is_empty()
                && host.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']')
                });
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(invalid("CORS_ALLOWED_ORIGINS", value, expected))
            }
        })
        .collect()
}

/// Production never serves plain HTTP to the network: with `tls = rustls` the service
/// terminates TLS 1.3 itself and needs its certificate files; with `tls = proxy` the
/// operator must declare the TLS proxy in front. Development serves plain HTTP on
/// loopback unless certificate files are given. OWASP ASVS V14.1; HIPAA 164.312(e)(1)
/// transmission security.
pub fn check_transport(
    environment: Environment,
    tls: TlsTermination,
    behind_tls_proxy: bool,
    tls_files: bool,
) -> Result<(), ConfigError> {
    match (tls, environment, behind_tls_proxy, tls_files) {
        (TlsTermination::Rustls, _, true, _) => Err(ConfigError::ProxyDeclaredWithInProcessTls),
        (TlsTermination::Proxy, _, _, true) => Err(ConfigError::TlsFilesWithProxy),
        (TlsTermination::Rustls, Environment::Production, false, false) => {
            Err(ConfigError::TlsFilesMissingInProduction)
        }
        (TlsTermination::Proxy, Environment::Production, false, false) => {
            Err(ConfigError::PlainHttpInProduction)
        }
        (_, Environment::Development, _, _)
        | (TlsTermination::Rustls, Environment::Production, false, true)
        | (TlsTermination::Proxy, Environment::Production, true, false) => Ok(()),
    }
}

/// A session limit from the environment: a whole number from 1 up to the generated value.
fn at_most(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    generated: u64,
) -> Result<u64, ConfigError> {
    let Some(value) = lookup(name) else {
        return Ok(generated);
    };
    match value.parse::<u64>() {
        Ok(n) if (1..=generated).contains(&n) => Ok(n),
        _ => Err(invalid(
            name,
            &value,
            &format!(
                "a whole number from 1 to {generated}; a longer limit is a new answer \
                 (medforge update --set {}=N)",
                name.to_ascii_lowercase()
            ),
        )),
    }
}

fn invalid(name: &'static str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

/// Every reason the service refuses to start, found in one reading of the environment:
/// one start reports them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, in the order the variables are read.
    pub fn problems(&self) -> &[ConfigError] {
        &self.0
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(problem: ConfigError) -> Self {
        Self(vec![problem])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => one.fmt(f),
            problems => {
                write!(
                    f,
                    "{} configuration problems, fix them all:",
                    problems.len()
                )?;
                for (n, problem) in problems.iter().enumerate() {
                    write!(f, " ({}) {problem};", n + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigErrors {}

/// Why the service refuses to start. Each message says what to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set to a value the service does not accept.
    #[error("{name}={value:?} is not valid: expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// Production behind an undeclared TLS proxy (`tls = proxy`).
    #[error(
        "APP_ENV=production refuses to serve plain HTTP unless a TLS proxy terminates TLS in \
         front of this service: set BEHIND_TLS_PROXY=true once one does"
    )]
    PlainHttpInProduction,
    /// Production without the certificate files of the in-process listener (`tls = rustls`).
    #[error(
        "APP_ENV=production refuses to serve plain HTTP, and this project terminates TLS 1.3 \
         in-process (tls = rustls): set TLS_CERT_FILE and TLS_KEY_FILE to the PEM \
         certificate chain and private key"
    )]
    TlsFilesMissingInProduction,
    /// Only one of `TLS_CERT_FILE` and `TLS_KEY_FILE` is set, or one is empty.
    #[error(
        "TLS_CERT_FILE and TLS_KEY_FILE go together: set both (the PEM certificate chain and \
         its private key) or neither"
    )]
    TlsFilesIncomplete,
    /// Certificate files in a project whose TLS proxy terminates TLS.
    #[error(
        "TLS_CERT_FILE and TLS_KEY_FILE apply to projects generated with tls = rustls; in \
         this one the TLS proxy terminates TLS (tls = proxy)"
    )]
    TlsFilesWithProxy,
    /// `BEHIND_TLS_PROXY=true` in a project that terminates TLS itself.
    #[error(
        "BEHIND_TLS_PROXY applies to projects generated with tls = proxy; this one terminates \
         TLS in-process (tls = rustls)"
    )]
    ProxyDeclaredWithInProcessTls,
    /// Production with a database URL that does not verify the server (`sslmode=verify-full`).
    #[error(
        "APP_ENV=production refuses a database connection that does not verify the server: \
         set sslmode=verify-full in {0} (sslmode=require and verify-ca accept an impostor; \
         add sslrootcert=PATH when the server's certificate is not from a public CA)"
    )]
    DatabaseWithoutVerifiedTls(&'static str),
    /// A database marked production, and a service not in production mode.
    #[error(
        "the database is marked production and this service is not in production mode \
         (APP_ENV unset or development): set APP_ENV=production, which turns on every \
         production check"
    )]
    ProductionDatabaseOutsideProduction,
    /// Production mode, and a database not marked production.
    #[error(
        "APP_ENV=production serves only a database marked production, and this one is marked \
         {}: run `{{crate_name}} migrate` with APP_ENV=production to mark it",
        deployment_name(.0)
    )]
    DatabaseNotMarkedProduction(Deployment),
    /// Production without a key-encryption key.
    #[error(
        "APP_ENV=production needs the key-encryption key that protects the PHI columns: set \
         {0} (generate one with `{{crate_name}} generate-kek`)"
    )]
    KekMissing(&'static str),
    /// Production with the published development key.
    #[error(
        "APP_ENV=production refuses the development key-encryption key in {0}: it is public \
         and protects nothing; generate one with `{{crate_name}} generate-kek`"
    )]
    DevelopmentKek(&'static str),
    /// The key file cannot be read.
    #[error("{name}={path:?} cannot be read: {reason}")]
    KekUnreadable {
        name: &'static str,
        path: String,
        reason: String,
    },
    /// The key file is readable by others than its owner.
    #[error(
        "{name}={path:?} is readable by other users: make it readable by the service's user \
         only (chmod 600 {path:?})"
    )]
    KekFileTooOpen { name: &'static str, path: String },
    /// The key is not 32 bytes in base64.
    #[error(
        "{0} does not hold a key-encryption key: expected 32 bytes in standard base64 (44 \
         characters), as `{{crate_name}} generate-kek` prints"
    )]
    KekInvalid(&'static str),
}

fn deployment_name(deployment: &Deployment) -> &'static str {
    match deployment {
        Deployment::Unmarked => "unmarked",
        Deployment::Development => "development",
        Deployment::Production => "production",
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Production => "production",
        })
    }
}

impl fmt::Display for TlsTermination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rustls => "rustls",
            Self::Proxy => "proxy",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A key-encryption key as the key provider gives it: the value of [`KEK_VARIABLE`]
    /// (a 0600 file's path, or the base64 itself). The file goes when this is dropped.
    struct ProvidedKey {
        kek: Kek,
        value: String,
        file: Option<PathBuf>,
    }

    impl Drop for ProvidedKey {
        fn drop(&mut self) {
            if let Some(file) = &self.file {
                let _ = std::fs::remove_file(file);
            }
        }
    }

    fn provided(kek: Kek) -> ProvidedKey {
{%- if key_provider == "file" %}
        let file = key_file(&kek.to_base64(), 0o600);
        ProvidedKey {
            kek,
            value: file.display().to_string(),
            file: Some(file),
        }
{%- else %}
        ProvidedKey {
            value: kek.to_base64(),
            kek,
            file: None,
        }
{%- endif %}
    }

    fn production_key() -> ProvidedKey {
        provided(Kek::generate().unwrap())
    }
{%- if key_provider == "file" %}

    /// A key file with `contents` and the Unix `mode`, in the temporary directory.
    fn key_file(contents: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = env::temp_dir().join(format!("kek-test-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }
{%- endif %}

    /// Every problem `vars` has, or none.
    fn problems(vars: &[(&str, &str)]) -> Vec<ConfigError> {
        read(vars).err().map(|errors| errors.0).unwrap_or_default()
    }

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    /// The configuration of `vars`, or its one problem (a test of one problem must not
    /// find others).
    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        read(vars).map_err(|errors| match <[ConfigError; 1]>::try_from(errors.0) {
            Ok([one]) => one,
            Err(several) => panic!("one problem expected, found {several:?}"),
        })
    }

    #[test]
    fn defaults_are_development_on_loopback_with_the_generated_limits() {
        let config = config(&[]).unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert!(config.bind_addr.ip().is_loopback());
        assert_eq!(config.tls, TLS_TERMINATION);
        assert_eq!(config.data_residency, DATA_RESIDENCY);
        assert_eq!(
            config.session_idle,
            Duration::from_secs(SESSION_IDLE_MINUTES * 60)
        );
        assert_eq!(
            config.session_absolute,
            Duration::from_secs(SESSION_ABSOLUTE_HOURS * 3600)
        );
    }

    #[test]
    fn environment_can_shorten_session_limits() {
        let config = config(&[
            ("SESSION_IDLE_MINUTES", "1"),
            ("SESSION_ABSOLUTE_HOURS", "1"),
        ])
        .unwrap();
        assert_eq!(config.session_idle, Duration::from_secs(60));
        assert_eq!(config.session_absolute, Duration::from_secs(3600));
    }

    #[test]
    fn environment_cannot_lengthen_session_limits() {
        let longer_idle = (SESSION_IDLE_MINUTES + 1).to_string();
        let err = config(&[("SESSION_IDLE_MINUTES", longer_idle.as_str())]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "SESSION_IDLE_MINUTES",
                ..
            }
        ));

        let longer_absolute = (SESSION_ABSOLUTE_HOURS + 1).to_string();
        let err = config(&[("SESSION_ABSOLUTE_HOURS", longer_absolute.as_str())]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "SESSION_ABSOLUTE_HOURS",
                ..
            }
        ));

        for zero_or_junk in ["0", "-5", "ten"] {
            assert!(config(&[("SESSION_IDLE_MINUTES", zero_or_junk)]).is_err());
        }
    }

    #[test]
    fn errors_name_the_variable_and_what_it_accepts() {
        let err = config(&[("APP_ENV", "prod")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "APP_ENV=\"prod\" is not valid: expected development or production"
        );
        let err = config(&[("BIND_ADDR", "localhost")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("BIND_ADDR=\"localhost\" is not valid")
        );
    }

    #[test]
    fn production_refuses_plain_http_without_a_declared_tls_proxy() {
        assert_eq!(
            check_transport(Environment::Production, TlsTermination::Proxy, false, false),
            Err(ConfigError::PlainHttpInProduction)
        );
    }

    #[test]
    fn production_refuses_rustls_mode_without_certificates() {
        assert_eq!(
            check_transport(
                Environment::Production,
                TlsTermination::Rustls,
                false,
                false
            ),
            Err(ConfigError::TlsFilesMissingInProduction)
        );
        assert_eq!(
            check_transport(Environment::Production, TlsTermination::Rustls, false, true),
            Ok(())
        );
        if TLS_TERMINATION == TlsTermination::Rustls {
            assert!(
                problems(&[("APP_ENV", "production")])
                    .contains(&ConfigError::TlsFilesMissingInProduction)
            );
            let key = production_key();
            let started = config(&[
                ("APP_ENV", "production"),
                ("TLS_CERT_FILE", "/etc/service/tls/chain.pem"),
                ("TLS_KEY_FILE", "/etc/service/tls/key.pem"),
                (KEK_VARIABLE, key.value.as_str()),
            ])
            .unwrap();
            assert_eq!(
                started.tls_files,
                Some(TlsFiles {
                    cert: PathBuf::from("/etc/service/tls/chain.pem"),
                    key: PathBuf::from("/etc/service/tls/key.pem"),
                })
            );
        }
    }

    #[test]
    fn tls_certificate_without_its_key_is_refused() {
        for vars in [
            &[("TLS_CERT_FILE", "/etc/service/tls/chain.pem")][..],
            &[("TLS_KEY_FILE", "/etc/service/tls/key.pem")][..],
            &[
                ("TLS_CERT_FILE", ""),
                ("TLS_KEY_FILE", "/etc/service/tls/key.pem"),
            ][..],
        ] {
            assert_eq!(config(vars), Err(ConfigError::TlsFilesIncomplete));
        }
    }

    #[test]
    fn production_behind_a_declared_tls_proxy_starts() {
        assert_eq!(
            check_transport(Environment::Production, TlsTermination::Proxy, true, false),
            Ok(())
        );
    }

    #[test]
    fn proxy_declaration_is_refused_where_tls_is_in_process() {
        for environment in [Environment::Development, Environment::Production] {
            assert_eq!(
                check_transport(environment, TlsTermination::Rustls, true, true),
                Err(ConfigError::ProxyDeclaredWithInProcessTls)
            );
            assert_eq!(
                check_transport(environment, TlsTermination::Proxy, false, true),
                Err(ConfigError::TlsFilesWithProxy)
            );
        }
    }

    #[test]
    fn production_start_follows_the_generated_tls_answer() {
        let key = production_key();
        let result = config(&[
            ("APP_ENV", "production"),
            ("BEHIND_TLS_PROXY", "true"),
            (KEK_VARIABLE, key.value.as_str()),
        ]);
        match TLS_TERMINATION {
            TlsTermination::Proxy => assert!(result.is_ok()),
            TlsTermination::Rustls => {
                assert_eq!(result, Err(ConfigError::ProxyDeclaredWithInProcessTls))
            }
        }
        assert!(!problems(&[("APP_ENV", "production")]).is_empty());
    }

    #[test]
    fn production_refuses_a_database_url_without_tls() {
        for url in [
            "postgres://service@db.internal/clinic",
            "postgres://service@db.internal/clinic?sslmode=disable",
            "postgres://service@db.internal/clinic?sslmode=prefer",
            "postgres://service@db.internal/clinic?sslmode=allow",
            // Encrypted, but to whichever server answers.
            "postgres://service@db.internal/clinic?sslmode=require",
            "postgres://service@db.internal/clinic?sslmode=verify-ca",
            "postgres://service@db.internal/clinic?sslmode=verify-full&sslmode=require",
        ] {
            assert_eq!(
                check_database_tls(Environment::Production, "DATABASE_URL", url),
                Err(ConfigError::DatabaseWithoutVerifiedTls("DATABASE_URL")),
                "{url}"
            );
        }
        let key = production_key();
        let error = production(&[
            (KEK_VARIABLE, key.value.as_str()),
            (
                "MIGRATION_DATABASE_URL",
                "postgres://owner@db.internal/clinic?sslmode=require",
            ),
        ])
        .unwrap_err();
        assert_eq!(
            error,
            ConfigError::DatabaseWithoutVerifiedTls("MIGRATION_DATABASE_URL")
        );
        assert!(
            error
                .to_string()
                .contains("set sslmode=verify-full in MIGRATION_DATABASE_URL"),
            "{error}"
        );
    }

    #[test]
    fn production_accepts_a_database_url_that_verifies_the_server() {
        for url in [
            "postgres://service@db.internal/clinic?sslmode=verify-full",
            "postgres://service@db.internal/clinic?sslrootcert=/etc/ca.pem&ssl-mode=VERIFY-FULL",
        ] {
            assert_eq!(
                check_database_tls(Environment::Production, "DATABASE_URL", url),
                Ok(())
            );
        }
        // Development runs on loopback against the throwaway cluster.
        assert_eq!(
            check_database_tls(
                Environment::Development,
                "DATABASE_URL",
                "postgres://service@127.0.0.1/clinic"
            ),
            Ok(())
        );
    }

    #[test]
    fn one_start_reports_every_problem() {
        let found = problems(&[
            ("APP_ENV", "production"),
            ("BIND_ADDR", "everywhere"),
            ("SESSION_IDLE_MINUTES", "0"),
            (
                "DATABASE_URL",
                "postgres://service@db.internal/clinic?sslmode=require",
            ),
        ]);
        let transport = match TLS_TERMINATION {
            TlsTermination::Rustls => ConfigError::TlsFilesMissingInProduction,
            TlsTermination::Proxy => ConfigError::PlainHttpInProduction,
        };
        assert!(matches!(
            found[0],
            ConfigError::Invalid {
                name: "BIND_ADDR",
                ..
            }
        ));
        assert!(matches!(
            found[1],
            ConfigError::Invalid {
                name: "SESSION_IDLE_MINUTES",
                ..
            }
        ));
        assert_eq!(
            found[2..],
            [
                transport,
                ConfigError::DatabaseWithoutVerifiedTls("DATABASE_URL"),
                ConfigError::KekMissing(KEK_VARIABLE),
            ]
        );
        let message = read(&[("APP_ENV", "production")]).unwrap_err().to_string();
        assert!(message.starts_with("2 configuration problems"), "{message}");
        assert!(
            message.contains("(1) ") && message.contains("(2) "),
            "{message}"
        );
    }

    #[test]
    fn the_database_marker_and_the_mode_must_agree() {
        use Deployment::{Development, Production, Unmarked};
        assert_eq!(
            check_deployment(Environment::Development, Production),
            Err(ConfigError::ProductionDatabaseOutsideProduction)
        );
        for marked in [Unmarked, Development] {
            assert_eq!(check_deployment(Environment::Development, marked), Ok(()));
            assert_eq!(
                check_deployment(Environment::Production, marked),
                Err(ConfigError::DatabaseNotMarkedProduction(marked))
            );
        }
        assert_eq!(
            check_deployment(Environment::Production, Production),
            Ok(())
        );
    }

    #[test]
    fn cors_is_closed_unless_exact_origins_are_listed() {
        assert!(config(&[]).unwrap().cors_allowed_origins.is_empty());
        let config_with = |value: &str| config(&[("CORS_ALLOWED_ORIGINS", value)]);
        assert_eq!(
            config_with("https://app.example.org, http://localhost:5173")
                .unwrap()
                .cors_allowed_origins,
            ["https://app.example.org", "http://localhost:5173"]
        );
        for wildcard_or_path in [
            "*",
            "https://*.example.org",
            "https://app.example.org/x",
            "null",
        ] {
            assert!(config_with(wildcard_or_path).is_err(), "{wildcard_or_path}");
        }
    }

    #[test]
    fn production_refuses_plain_http_cors_origins() {
        assert!(matches!(
            cors_origins(Environment::Production, "http://app.example.org"),
            Err(ConfigError::Invalid {
                name: "CORS_ALLOWED_ORIGINS",
                ..
            })
        ));
        assert_eq!(
            cors_origins(Environment::Production, "https://app.example.org"),
            Ok(vec!["https://app.example.org".to_owned()])
        );
    }

    #[test]
    fn development_runs_on_the_development_key_unless_one_is_given() {
        assert_eq!(
            config(&[]).unwrap().keks,
            KekRing::single(Kek::development())
        );
        let key = production_key();
        let config = config(&[(KEK_VARIABLE, key.value.as_str())]).unwrap();
        assert_eq!(config.keks.current, key.kek);
        assert_eq!(config.keks.previous, None);
    }

    /// Production variables that pass every other check, plus `extra`.
    fn production(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars = vec![
            ("APP_ENV", "production"),
            ("TLS_CERT_FILE", "/etc/service/tls/chain.pem"),
            ("TLS_KEY_FILE", "/etc/service/tls/key.pem"),
        ];
        if TLS_TERMINATION == TlsTermination::Proxy {
            vars = vec![("APP_ENV", "production"), ("BEHIND_TLS_PROXY", "true")];
        }
        vars.extend_from_slice(extra);
        config(&vars)
    }

    #[test]
    fn production_refuses_to_start_without_a_key_encryption_key() {
        assert_eq!(production(&[]), Err(ConfigError::KekMissing(KEK_VARIABLE)));
        let key = production_key();
        assert!(production(&[(KEK_VARIABLE, key.value.as_str())]).is_ok());
    }

    #[test]
    fn production_refuses_the_development_key() {
        let development = provided(Kek::development());
        let error = production(&[(KEK_VARIABLE, development.value.as_str())]).unwrap_err();
        assert_eq!(error, ConfigError::DevelopmentKek(KEK_VARIABLE));
        assert!(error.to_string().contains("development key"), "{error}");
        let key = production_key();
        assert_eq!(
            production(&[
                (KEK_VARIABLE, key.value.as_str()),
                (PREVIOUS_KEK_VARIABLE, development.value.as_str()),
            ]),
            Err(ConfigError::DevelopmentKek(PREVIOUS_KEK_VARIABLE))
        );
    }

    #[test]
    fn a_rotation_holds_the_current_and_the_previous_key() {
        let current = production_key();
        let previous = production_key();
        let config = production(&[
            (KEK_VARIABLE, current.value.as_str()),
            (PREVIOUS_KEK_VARIABLE, previous.value.as_str()),
        ])
        .unwrap();
        assert_eq!(config.keks.current, current.kek);
        assert_eq!(config.keks.previous, Some(previous.kek.clone()));
    }
{%- if key_provider == "file" %}

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let kek = Kek::generate().unwrap();
        let open = key_file(&kek.to_base64(), 0o644);
        let path = open.display().to_string();
        let error = config(&[(KEK_VARIABLE, path.as_str())]).unwrap_err();
        std::fs::remove_file(&open).unwrap();
        assert_eq!(
            error,
            ConfigError::KekFileTooOpen {
                name: KEK_VARIABLE,
                path: path.clone(),
            }
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }

    #[test]
    fn a_missing_or_malformed_key_file_is_named() {
        let error = config(&[(KEK_VARIABLE, "/nonexistent/kek")]).unwrap_err();
        assert!(
            matches!(error, ConfigError::KekUnreadable { .. }),
            "{error}"
        );
        let bad = key_file("not a key", 0o600);
        let path = bad.display().to_string();
        let error = config(&[(KEK_VARIABLE, path.as_str())]).unwrap_err();
        std::fs::remove_file(&bad).unwrap();
        assert_eq!(error, ConfigError::KekInvalid(KEK_VARIABLE));
        assert!(!error.to_string().contains("not a key"), "{error}");
    }
{%- else %}

    #[test]
    fn a_malformed_key_is_refused_without_echoing_it() {
        let error = config(&[(KEK_VARIABLE, "bm90IGEga2V5")]).unwrap_err();
        assert_eq!(error, ConfigError::KekInvalid(KEK_VARIABLE));
        assert!(!error.to_string().contains("bm90IGEga2V5"), "{error}");
    }
{%- endif %}
}
