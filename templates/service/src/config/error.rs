//! Why the service refuses to start: each message says what to set.

use super::Deployment;
use crate::crypto::key_provider::KeyProviderError;

/// Every reason the service refuses to start, found in one reading of the environment:
/// one start reports them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", summary(.0))]
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

/// One problem as its own message; several numbered on one line, so a log line holds them
/// all.
fn summary(problems: &[ConfigError]) -> String {
    match problems {
        [one] => one.to_string(),
        problems => {
            let mut text = format!("{} configuration problems, fix them all:", problems.len());
            for (n, problem) in problems.iter().enumerate() {
                text.push_str(&format!(" ({}) {problem};", n + 1));
            }
            text
        }
    }
}

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
         {}: run `{bin} migrate` with APP_ENV=production to mark it",
        deployment_name(.0),
        bin = env!("CARGO_PKG_NAME")
    )]
    DatabaseNotMarkedProduction(Deployment),
    /// Production without a key-encryption key.
    #[error(
        "APP_ENV=production needs the key-encryption key that protects the PHI columns: set \
         {0} (generate one with `{bin} generate-kek`)",
        bin = env!("CARGO_PKG_NAME")
    )]
    KekMissing(&'static str),
    /// Production with the published development key.
    #[error(
        "APP_ENV=production refuses the development key-encryption key in {0}: it is public \
         and protects nothing; generate one with `{bin} generate-kek`",
        bin = env!("CARGO_PKG_NAME")
    )]
    DevelopmentKek(&'static str),
    /// The key provider holds no usable key (`crypto::key_provider`).
    #[error(transparent)]
    Kek(#[from] KeyProviderError),
}

fn deployment_name(deployment: &Deployment) -> &'static str {
    match deployment {
        Deployment::Unmarked => "unmarked",
        Deployment::Development => "development",
        Deployment::Production => "production",
    }
}
