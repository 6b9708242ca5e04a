//! Reading the variables, one function each: a value, or the problem that names the
//! variable and what it accepts (never more of the value than the variable's own text).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{ConfigError, DEFAULT_BIND_ADDR, Environment, TlsFiles};

/// The problems found so far in one reading of the environment.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<ConfigError>);

impl Problems {
    /// The value of `result`, or `None` with its error noted.
    pub(super) fn keep<T, E: Into<ConfigError>>(&mut self, result: Result<T, E>) -> Option<T> {
        result.map_err(|problem| self.add(problem.into())).ok()
    }

    pub(super) fn add(&mut self, problem: ConfigError) {
        self.0.push(problem);
    }
}

/// `APP_ENV`: unset is development.
pub(super) fn environment(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Environment, ConfigError> {
    match lookup("APP_ENV").as_deref() {
        None | Some("development") => Ok(Environment::Development),
        Some("production") => Ok(Environment::Production),
        Some(other) => Err(invalid("APP_ENV", other, "development or production")),
    }
}

/// `BIND_ADDR`: unset is [`DEFAULT_BIND_ADDR`], loopback only.
pub(super) fn bind_addr(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<SocketAddr, ConfigError> {
    match lookup("BIND_ADDR") {
        None => Ok(DEFAULT_BIND_ADDR),
        Some(value) => value.parse().map_err(|_| {
            invalid(
                "BIND_ADDR",
                &value,
                "an address and port, e.g. 127.0.0.1:3000",
            )
        }),
    }
}

/// `BEHIND_TLS_PROXY`: unset is false.
pub(super) fn behind_tls_proxy(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<bool, ConfigError> {
    match lookup("BEHIND_TLS_PROXY").as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid("BEHIND_TLS_PROXY", other, "true or false")),
    }
}

/// `TLS_CERT_FILE` and `TLS_KEY_FILE`: both or neither.
pub(super) fn tls_files(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<TlsFiles>, ConfigError> {
    match (lookup("TLS_CERT_FILE"), lookup("TLS_KEY_FILE")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) if !cert.is_empty() && !key.is_empty() => Ok(Some(TlsFiles {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        })),
        _ => Err(ConfigError::TlsFilesIncomplete),
    }
}

/// `CORS_ALLOWED_ORIGINS`: unset is no cross-origin access.
pub(super) fn cors_allowed_origins(
    lookup: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<Vec<String>, ConfigError> {
    match lookup("CORS_ALLOWED_ORIGINS") {
        None => Ok(Vec::new()),
        Some(value) => cors_origins(environment, &value),
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

/// A session limit from the environment: a whole number from 1 up to the generated value.
pub(super) fn at_most(
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
#[cfg(test)]
mod tests {
    use super::*;

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
}
