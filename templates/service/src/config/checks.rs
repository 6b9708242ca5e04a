//! The rules that judge settings together, and the database against the settings: the
//! ones production is refused on.

use super::{ConfigError, Deployment, Environment, TlsTermination};

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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_plain_http_without_a_declared_tls_proxy() {
        assert_eq!(
            check_transport(Environment::Production, TlsTermination::Proxy, false, false),
            Err(ConfigError::PlainHttpInProduction)
        );
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
}
