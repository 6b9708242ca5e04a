//! `cargo run -p dev`: the service on a throwaway PostgreSQL cluster filled with
//! synthetic data, in one step, no Docker. The cluster lives in a temporary directory and
//! is removed when the server stops (Ctrl-C).
//!
//! The development accounts (email, password, TOTP secret, role, clinic) are written to
//! `target/dev/accounts.json`; the database URLs, to use the other commands against the
//! running cluster, to `target/dev/database.env`. `cargo run -p dev -- totp SECRET`
//! prints the current TOTP code for a secret from the accounts file.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use ::service::auth::totp;
use ::service::clock::{Clock, SystemClock};
use ::service::config::{Config, Environment};
use ::service::seed::{self, SeedOptions};
use ::service::{AppState, db, logging, serve, shutdown_signal};

/// The database the development server creates in its cluster.
const DATABASE: &str = "{{crate_name}}_dev";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, secret] = args.as_slice()
        && command == "totp"
    {
        return print_code(secret);
    }
    logging::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(clash) = error.downcast_ref::<PortInUse>() {
                let _ = writeln!(std::io::stderr(), "{clash}");
            } else {
                tracing::error!(%error, "the development server stopped");
            }
            ExitCode::FAILURE
        }
    }
}

/// The address the server should listen on is taken, most often by another
/// `cargo run -p dev`.
#[derive(Debug)]
struct PortInUse(SocketAddr);

impl std::fmt::Display for PortInUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut other = self.0;
        other.set_port(self.0.port().wrapping_add(1).max(1));
        write!(
            f,
            "port {} on {} is already in use: stop what listens there, or choose another \
             address with BIND_ADDR (BIND_ADDR={other} cargo run -p dev)",
            self.0.port(),
            self.0.ip()
        )
    }
}

impl std::error::Error for PortInUse {}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    if config.environment == Environment::Production {
        return Err("the development server runs with APP_ENV=development only".into());
    }
    // Bound first, so a taken port fails in a second, before a cluster starts.
    let listener = match tokio::net::TcpListener::bind(config.bind_addr).await {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(PortInUse(config.bind_addr).into());
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!("starting a throwaway PostgreSQL cluster");
    let cluster = pg_throwaway::Cluster::start()?;
    let admin = PgConnectOptions::from_str(&cluster.superuser_url("postgres"))?;
    let roles = db::bootstrap::bootstrap(&admin, DATABASE).await?;
    db::migrate(roles.owner.clone(), Environment::Development).await?;
    let pool = db::connect(roles.service.clone()).await?;

    let state = AppState::new(pool.clone(), &config)?;
    let seeded = seed::seed(
        &pool,
        &state.hasher,
        &state.keyring,
        config.environment,
        &SeedOptions::default(),
    )
    .await?;
    let out = dev_dir();
    let accounts = out.join("accounts.json");
    seed::write_accounts(&accounts, &seeded)?;
    write_env(
        &out.join("database.env"),
        &cluster.url(db::SERVICE_ROLE, &roles.service_password, DATABASE),
        &cluster.url(db::OWNER_ROLE, &roles.owner_password, DATABASE),
    )?;

    let address = format!("http://{}", listener.local_addr()?);
    tracing::info!(
        address = %address,
        accounts = %accounts.display(),
        database_env = %out.join("database.env").display(),
        "development server ready: synthetic data only; Ctrl-C stops it and removes the database"
    );
    // The logs on stdout are JSON for machines; these lines are for the person who ran it.
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        welcome(&address, listener.local_addr()?.port(), &accounts, &seeded)
    );
    serve(listener, state, shutdown_signal()).await?;
    drop(cluster);
    Ok(())
}

/// What the person who started the server reads: where the interface is (`localhost`, a
/// secure context, so browsers keep the `__Host-` cookies over plain HTTP), the accounts
/// to sign in with, and how to get a TOTP code.
fn welcome(address: &str, port: u16, accounts: &Path, seeded: &seed::Seeded) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "development server on {address}, synthetic data only; Ctrl-C stops it"
    );
    if matches!(::service::policy::UI, ::service::policy::Ui::Web) {
        let _ = writeln!(text, "web interface: http://localhost:{port}/app");
    }
    let _ = writeln!(
        text,
        "development accounts (all in {}):",
        accounts.display()
    );
    for account in &seeded.accounts {
        let _ = writeln!(
            text,
            "  {:<9}  {}  password: {}  ({})",
            account.role.as_str(),
            account.email,
            account.password,
            account.clinic_name
        );
    }
    let _ = write!(
        text,
        "TOTP code for an account: cargo run -q -p dev -- totp SECRET (its totp_secret in the accounts file)"
    );
    text
}

/// `target/dev/` in the workspace (this crate is `tools/dev/`).
fn dev_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."));
    workspace.join("target").join("dev")
}

/// The URLs of the running development database, for `migrate`, `seed` and
/// `create-user` (`set -a; . target/dev/database.env`). Readable by the owner only.
fn write_env(path: &Path, service: &str, owner: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "DATABASE_URL={service}")?;
    writeln!(file, "MIGRATION_DATABASE_URL={owner}")
}

/// Prints the TOTP code valid now for a base32 secret.
fn print_code(secret: &str) -> ExitCode {
    match totp::decode_base32(secret) {
        Some(secret) => {
            let code = totp::code_at(&secret, SystemClock.now());
            let _ = writeln!(std::io::stdout(), "{code}");
            ExitCode::SUCCESS
        }
        None => {
            let _ = writeln!(std::io::stderr(), "not a base32 TOTP secret");
            ExitCode::from(2)
        }
    }
}
