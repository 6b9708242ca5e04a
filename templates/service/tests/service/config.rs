//! Safe configuration, through the real `serve` command: a database marked production
//! refuses a service that is not in production mode (APP_ENV forgotten included), one
//! start reports every problem, production insists on a verified database connection, and
//! the limits the service runs with are the project's recorded answers.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ::service::auth::rate_limit;
use ::service::config::SessionPolicy;
use ::service::config::{self, Config, ConfigError, Environment};
use ::service::db;

use crate::support::{TestDb, binary};

/// `serve` with only `vars` in its environment (nothing inherited from the test run).
fn serve(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("serve")
        .env_clear()
        .env("RUST_LOG", "info")
        .env("BIND_ADDR", "127.0.0.1:0")
        .envs(vars.iter().copied());
    command
}

/// What one run of `serve` did: whether it listened, its exit code when it stopped by
/// itself, and its log.
struct Run {
    listened: bool,
    exit_code: Option<i32>,
    log: String,
}

/// Runs `serve` until it listens (then stops it) or exits by itself.
fn run(vars: &[(&str, &str)]) -> Run {
    let mut child = serve(vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    for output in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(lines);
    let mut log = String::new();
    let mut listened = false;
    // Both outputs close when the process ends; a start that neither listens nor ends
    // within the minute fails the test below.
    while let Ok(line) = received.recv_timeout(Duration::from_secs(60)) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("\"listening\"") {
            listened = true;
            break;
        }
    }
    let exit_code = if listened {
        let _ = child.kill();
        let _ = child.wait();
        None
    } else {
        let _ = child.kill();
        child.wait().unwrap().code()
    };
    Run {
        listened,
        exit_code,
        log,
    }
}

/// Runs `serve`, which must refuse to start: its exit code is 2, and its log is returned.
fn refused(vars: &[(&str, &str)]) -> String {
    let run = run(vars);
    assert!(
        !run.listened,
        "serve must refuse, and it listened:\n{}",
        run.log
    );
    assert_eq!(run.exit_code, Some(2), "serve must refuse:\n{}", run.log);
    run.log
}

/// Starts `serve`, which must listen; then stops it.
fn starts(vars: &[(&str, &str)]) {
    let run = run(vars);
    assert!(run.listened, "serve did not start:\n{}", run.log);
}

/// A database of its own whose `deployment` row says `marked`.
async fn database_marked(marked: &str) -> TestDb {
    let db = TestDb::new().await;
    match marked {
        "production" => db::migrate(db.owner.clone(), Environment::Production)
            .await
            .unwrap(),
        "development" => {}
        other => {
            let mut owner = TestDb::connect(&db.owner).await;
            sqlx::query("UPDATE deployment SET environment = $1")
                .bind(other)
                .execute(&mut owner)
                .await
                .unwrap();
        }
    }
    db
}

// HIPAA 164.308(a)(1)(ii)(B); OWASP ASVS 14.1.1: a production deploy that forgets APP_ENV
// must not serve plain HTTP, skip the database's TLS or seal keys under the public
// development key. The database knows it is production; the service fails closed.
#[tokio::test]
async fn production_database_refuses_a_service_not_in_production_mode() {
    let db = database_marked("production").await;
    for app_env in [None, Some("development")] {
        let mut vars = vec![("DATABASE_URL", db.service_url.as_str())];
        vars.extend(app_env.map(|value| ("APP_ENV", value)));
        let log = refused(&vars);
        assert!(log.contains("the database is marked production"), "{log}");
        assert!(log.contains("set APP_ENV=production"), "{log}");
    }
}

// Development (APP_ENV unset or development) still serves a development or unmarked
// database: the refusal above is not a refusal of everything.
#[tokio::test]
async fn development_database_serves_without_app_env() {
    for marked in ["development", "unmarked"] {
        let db = database_marked(marked).await;
        starts(&[("DATABASE_URL", db.service_url.as_str())]);
        starts(&[
            ("DATABASE_URL", db.service_url.as_str()),
            ("APP_ENV", "development"),
        ]);
    }
}

// OWASP ASVS 14.1.1: an operator fixing a production configuration learns every problem
// from one start, not one per restart.
#[test]
fn one_start_reports_every_configuration_problem() {
    let log = refused(&[
        ("APP_ENV", "production"),
        (
            "DATABASE_URL",
            "postgres://service@db.invalid/clinic?sslmode=require",
        ),
        ("SESSION_IDLE_MINUTES", "0"),
    ]);
    let transport = match config::TLS_TERMINATION {
        config::TlsTermination::Rustls => "set TLS_CERT_FILE and TLS_KEY_FILE",
        config::TlsTermination::Proxy => "set BEHIND_TLS_PROXY=true",
    };
    for problem in [
        "4 configuration problems",
        "SESSION_IDLE_MINUTES=\\\"0\\\" is not valid",
        transport,
        "set sslmode=verify-full in DATABASE_URL",
        &format!("set {}", config::KEK_VARIABLE),
    ] {
        assert!(log.contains(problem), "{problem:?} is not reported:\n{log}");
    }
}

// HIPAA 164.312(e)(1): sslmode=require encrypts but accepts any server, so whoever is on
// the path can pose as the database; production needs verify-full.
#[test]
fn production_refuses_a_database_connection_that_does_not_verify_the_server() {
    let problems = |url: &str| {
        Config::from_lookup(|name| match name {
            "APP_ENV" => Some("production".to_owned()),
            "DATABASE_URL" => Some(url.to_owned()),
            _ => None,
        })
        .unwrap_err()
        .problems()
        .to_vec()
    };
    let unverified = ConfigError::DatabaseWithoutVerifiedTls("DATABASE_URL");
    for mode in ["disable", "prefer", "require", "verify-ca"] {
        let found = problems(&format!(
            "postgres://service@db.internal/clinic?sslmode={mode}"
        ));
        let problem = found.iter().find(|problem| **problem == unverified);
        let message = problem.map(ToString::to_string).unwrap_or_default();
        assert!(
            message.contains("set sslmode=verify-full in DATABASE_URL"),
            "{mode}: {found:?}"
        );
    }
    let verified = problems("postgres://service@db.internal/clinic?sslmode=verify-full");
    assert!(!verified.contains(&unverified), "{verified:?}");
}

/// The answers this project was generated with, as `medforge` recorded them.
fn answers() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.medforge/answers.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let answers: toml::Table = text.parse().unwrap();
    answers["answers"].as_table().unwrap().clone()
}

// HIPAA 164.312(a)(2)(iii) automatic logoff: the session limits the service enforces are
// the recorded answers, not a value edited in the code behind their back.
#[test]
fn session_limits_are_the_recorded_answers() {
    let answers = answers();
    let idle_minutes = answers["session_idle_minutes"].as_integer().unwrap();
    let absolute_hours = answers["session_absolute_hours"].as_integer().unwrap();
    assert_eq!(
        i64::try_from(config::SESSION_IDLE_MINUTES),
        Ok(idle_minutes)
    );
    assert_eq!(
        i64::try_from(config::SESSION_ABSOLUTE_HOURS),
        Ok(absolute_hours)
    );
    let policy = SessionPolicy::from_config(&Config::from_lookup(|_| None).unwrap());
    assert_eq!(policy.idle, chrono::Duration::minutes(idle_minutes));
    assert_eq!(policy.absolute, chrono::Duration::hours(absolute_hours));
}

// OWASP ASVS 2.2.1: the authentication rate limit is 30 calls per minute per address;
// loosening it is a reviewed change of this line.
#[test]
fn auth_rate_limit_is_thirty_calls_a_minute() {
    assert_eq!(i64::from(rate_limit::MAX_REQUESTS), 30);
    assert_eq!(rate_limit::WINDOW, chrono::Duration::minutes(1));
}
