//! Service configuration, read once at startup from environment variables.
//!
//! The answers given to `medforge new` bound what the environment may set: the constants
//! of [`crate::policy`], re-exported here. The environment may tighten a limit but never
//! loosen it; to loosen one, change the answer (`medforge update --set ...`) so that the
//! change is on record.
//!
//! [`Config::from_lookup`] reads each variable ([`variables`]), judges them together
//! ([`checks`]) and reports every problem at once ([`ConfigErrors`]); the key-encryption
//! keys come from the key provider ([`crate::crypto::key_provider`]).

use crate::crypto::{Kek, KekRing, key_provider};

use std::{
    env, fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

mod checks;
mod error;
mod variables;

pub use checks::{check_database_tls, check_deployment, check_transport};
pub use error::{ConfigError, ConfigErrors};
// The key provider's variables, read here with the rest of the environment.
pub use key_provider::{KEK_VARIABLE, PREVIOUS_KEK_VARIABLE};
// The answers that bound the settings, where the settings are.
pub use crate::policy::{
    DATA_RESIDENCY, SESSION_ABSOLUTE_HOURS, SESSION_IDLE_MINUTES, TLS_TERMINATION, TlsTermination,
};

use variables::Problems;

/// Where the service listens unless `BIND_ADDR` says otherwise: loopback only.
pub const DEFAULT_BIND_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);

/// What a database is for, from its `deployment` row, which `crate::db::deployment` reads.
/// `seed` runs on development databases only (HIPAA 164.308(a)(1)(ii)(B)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Migrated, but by nothing that said what it serves (e.g. sqlx-cli).
    Unmarked,
    Development,
    Production,
}

/// Development serves plain HTTP on loopback with synthetic data; production refuses to
/// start unless every safety check passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// When sessions end (HIPAA 164.312(a)(2)(iii) automatic logoff), from
/// `SESSION_IDLE_MINUTES` and `SESSION_ABSOLUTE_HOURS`; `crate::auth::session` applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Without a request for this long, a session ends.
    pub idle: chrono::Duration,
    /// This long after login, a session ends however active it is.
    pub absolute: chrono::Duration,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        let seconds =
            |d: Duration| chrono::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self {
            idle: seconds(config.session_idle),
            absolute: seconds(config.session_absolute),
        }
    }
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

        let environment = problems.keep(variables::environment(&lookup));
        let checked_as = environment.unwrap_or(Environment::Development);
        let bind_addr = problems.keep(variables::bind_addr(&lookup));
        let behind_tls_proxy = problems.keep(variables::behind_tls_proxy(&lookup));
        let tls_files = problems.keep(variables::tls_files(&lookup));
        let idle_minutes = problems.keep(variables::at_most(
            &lookup,
            "SESSION_IDLE_MINUTES",
            SESSION_IDLE_MINUTES,
        ));
        let absolute_hours = problems.keep(variables::at_most(
            &lookup,
            "SESSION_ABSOLUTE_HOURS",
            SESSION_ABSOLUTE_HOURS,
        ));
        let cors_allowed_origins =
            problems.keep(variables::cors_allowed_origins(&lookup, checked_as));
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

/// The KEK ring from the key provider. Production refuses to start without a key or with
/// the development key, which is public. HIPAA 164.312(a)(2)(iv).
fn key_encryption_keys(
    environment: Environment,
    lookup: &impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<KekRing> {
    let current = problems.keep(key_provider::read(lookup, KEK_VARIABLE));
    let previous = problems.keep(key_provider::read(lookup, PREVIOUS_KEK_VARIABLE));
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

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Production => "production",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_provider::{KeyFile, KeyProviderError};
    use crate::policy::{KEY_PROVIDER, KeyProvider};
    use std::collections::HashMap;

    /// A value as the key provider gives it to [`KEK_VARIABLE`]: a 0600 file's path, or
    /// the text itself. The file goes when this is dropped.
    struct Provided {
        value: String,
        _file: Option<KeyFile>,
    }

    /// `text` as the key provider gives it.
    fn provide(text: &str) -> Provided {
        match KEY_PROVIDER {
            KeyProvider::File => {
                let file = KeyFile::new(text, 0o600);
                Provided {
                    value: file.path(),
                    _file: Some(file),
                }
            }
            KeyProvider::Env => Provided {
                value: text.to_owned(),
                _file: None,
            },
        }
    }

    /// A key-encryption key as the key provider gives it.
    struct ProvidedKey {
        kek: Kek,
        provided: Provided,
    }

    impl std::ops::Deref for ProvidedKey {
        type Target = Provided;

        fn deref(&self) -> &Provided {
            &self.provided
        }
    }

    fn provided(kek: Kek) -> ProvidedKey {
        ProvidedKey {
            provided: provide(&kek.to_base64()),
            kek,
        }
    }

    fn production_key() -> ProvidedKey {
        provided(Kek::generate().unwrap())
    }

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

    #[test]
    fn a_malformed_provided_key_is_refused_without_echoing_it() {
        let bad = provide("bm90IGEga2V5");
        let error = config(&[(KEK_VARIABLE, bad.value.as_str())]).unwrap_err();
        assert_eq!(
            error,
            ConfigError::Kek(KeyProviderError::Invalid(KEK_VARIABLE))
        );
        assert!(!error.to_string().contains("bm90IGEga2V5"), "{error}");
    }
}
