//! The commands of the binary, each a thin shell over the library.
//!
//! | command | connects as | environment |
//! |---|---|---|
//! | `serve` (the default) | the service role | `DATABASE_URL` |
//! | `migrate` | the owner role | `MIGRATION_DATABASE_URL` |
//! | `seed` | the service role | `DATABASE_URL` |
//! | `create-user`, `disable-user`, `unlock-user` | the service role | `DATABASE_URL` |
//! | `verify-audit`, `audit-checkpoint` | the owner role | `MIGRATION_DATABASE_URL`, the key-encryption key |
//! | `rotate-keys` | the owner role | `MIGRATION_DATABASE_URL`, the key-encryption keys |
//! | `generate-kek` | nothing | none |
//!
//! Exit codes: 0 done, 1 failed (for `verify-audit`: a broken audit chain), 2 refused (bad
//! arguments or configuration).

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sqlx::Connection;
use tokio::net::TcpListener;

use crate::accounts::{self, ClinicChoice, NewUser};
use crate::audit::AuditAction;
use crate::audit::checkpoint::{Checkpoint, Finding};
use crate::auth::Role;
use crate::auth::password::{Password, PasswordHasher};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Environment};
use crate::crypto::{Kek, Keyring, rotation};
use crate::ids::ClinicId;
use crate::seed::{self, SeedOptions};
use crate::{AppState, audit, db, logging};

// Named after the package; `about` is its description in Cargo.toml.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default). Connects with DATABASE_URL, as the service role.
    Serve,
    /// Run the database migrations as the owner role (MIGRATION_DATABASE_URL), then mark
    /// the database with APP_ENV (development or production; production is final).
    Migrate,
    /// Fill a development database with synthetic clinics, accounts and patients. Refuses
    /// any database not marked development, and APP_ENV=production.
    Seed {
        /// Same seed, same clinics and patients.
        #[arg(long, default_value_t = seed::DEFAULT_SEED)]
        seed: u64,
        /// Synthetic patients per clinic.
        #[arg(long, default_value_t = 25)]
        patients: usize,
        /// Where to write the development accounts (email, password, TOTP secret, role,
        /// clinic) as JSON, readable by the owner only.
        #[arg(long)]
        users_out: Option<PathBuf>,
    },
    /// Create an account. Reads the password from the first line of standard input and
    /// prints the account, with its TOTP secret when the role needs one, as JSON.
    CreateUser {
        #[arg(long)]
        email: String,
        /// admin, clinician, staff or auditor.
        #[arg(long)]
        role: Role,
        /// The clinic the account belongs to.
        #[arg(
            long,
            required_unless_present = "new_clinic",
            conflicts_with = "new_clinic"
        )]
        clinic: Option<ClinicId>,
        /// Create a clinic with this name for the account.
        #[arg(long)]
        new_clinic: Option<String>,
    },
    /// Disable an account; every one of its sessions ends at once.
    DisableUser {
        #[arg(long)]
        email: String,
    },
    /// Let an account's owner sign in again after repeated failures suspended it (100 in a
    /// row, from anywhere) or locked it: the failure count starts again from zero.
    UnlockUser {
        #[arg(long)]
        email: String,
    },
    /// Verify the audit hash chain of every clinic as the owner role
    /// (MIGRATION_DATABASE_URL). Prints a JSON report; exits 1 when a chain is broken, or
    /// when a clinic has no chain.
    VerifyAudit {
        /// Also check the chains against this checkpoint (written by `audit-checkpoint`):
        /// each clinic's checkpointed head must still be in its chain.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Write every clinic's audit chain head (number, hash, time) under an HMAC keyed from
    /// the key-encryption key, as JSON, as the owner role (MIGRATION_DATABASE_URL). Ship
    /// the file to write-once storage: `verify-audit --checkpoint FILE` then proves no
    /// chain was cut back or deleted since.
    AuditCheckpoint {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-wrap every clinic's data keys under the current key-encryption key, as the owner
    /// role (MIGRATION_DATABASE_URL), while the service keeps running: set the new key as
    /// the current one and the old one as the previous one (README.md, "Encryption keys").
    /// Prints a JSON report. Safe to run again: it resumes where it stopped.
    RotateKeys {
        /// Also add a new data key version per clinic: new values are sealed with it,
        /// older values keep opening with the version they name.
        #[arg(long)]
        new_data_key: bool,
    },
    /// Print a new random key-encryption key (32 bytes, base64) to store with the key
    /// provider. It is printed once and kept nowhere else.
    GenerateKek,
}

/// Why a command did not finish.
enum Failure {
    /// Bad configuration or a refused request: exit 2.
    Refused(String),
    /// Something broke: exit 1.
    Failed(String),
}

/// Runs the command and returns the process's exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Serve) {
        logging::init();
    } else {
        logging::init_stderr();
    }
    let result = match command {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Seed {
            seed,
            patients,
            users_out,
        } => seed_database(seed, patients, users_out).await,
        Command::CreateUser {
            email,
            role,
            clinic,
            new_clinic,
        } => create_user(email, role, clinic, new_clinic).await,
        Command::DisableUser { email } => disable_user(email).await,
        Command::UnlockUser { email } => unlock_user(email).await,
        Command::VerifyAudit { checkpoint } => verify_audit(checkpoint).await,
        Command::AuditCheckpoint { out } => audit_checkpoint(out).await,
        Command::RotateKeys { new_data_key } => rotate_keys(new_data_key).await,
        Command::GenerateKek => generate_kek(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(error)) => {
            tracing::error!(%error, "refused");
            ExitCode::from(2)
        }
        Err(Failure::Failed(error)) => {
            tracing::error!(%error, "failed");
            ExitCode::FAILURE
        }
    }
}

fn config() -> Result<Config, Failure> {
    Config::from_env().map_err(|error| Failure::Refused(error.to_string()))
}

async fn service_pool() -> Result<sqlx::PgPool, Failure> {
    let options = db::options_from_env(
        "DATABASE_URL",
        concat!(
            "the service role's URL, e.g. postgres://",
            env!("CARGO_PKG_NAME"),
            "_service:PASSWORD@HOST/DB"
        ),
    )
    .map_err(|error| Failure::Refused(error.to_string()))?;
    db::connect(options)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))
}

async fn serve() -> Result<(), Failure> {
    let config = config()?;
    // The certificate files are read before anything else: a bad file stops the service
    // at startup with a clear message, never a failed handshake later.
    #[cfg(feature = "tls-rustls")]
    let tls_config = match &config.tls_files {
        Some(files) => Some(
            crate::tls::server_config(files)
                .map_err(|error| Failure::Refused(error.to_string()))?,
        ),
        None => None,
    };
    // A `tls = proxy` project refuses certificate files (config::check_transport).
    let https = config.tls_files.is_some();
    let pool = service_pool().await?;
    // The database's deployment marker and the service's mode must agree before anything
    // is served (config::check_deployment).
    let mut connection = pool
        .acquire()
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    let deployment = db::deployment(&mut connection)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    drop(connection);
    crate::config::check_deployment(config.environment, deployment)
        .map_err(|error| Failure::Refused(error.to_string()))?;
    let state =
        AppState::new(pool, &config).map_err(|error| Failure::Refused(error.to_string()))?;
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    let address = listener.local_addr().unwrap_or(config.bind_addr);
    tracing::info!(
        %address,
        environment = %config.environment,
        tls = %config.tls,
        https,
        data_residency = config.data_residency,
        "listening"
    );
    if config.environment == Environment::Development {
        if https {
            tracing::warn!("development mode: synthetic data only");
        } else {
            tracing::warn!("development mode: plain HTTP, synthetic data only");
        }
    }
    #[cfg(feature = "tls-rustls")]
    if let Some(tls_config) = tls_config {
        return crate::serve_tls(listener, tls_config, state, crate::shutdown_signal())
            .await
            .map_err(|error| Failure::Failed(error.to_string()));
    }
    crate::serve(listener, state, crate::shutdown_signal())
        .await
        .map_err(|error| Failure::Failed(error.to_string()))
}

async fn migrate() -> Result<(), Failure> {
    let config = config()?;
    let owner = db::options_from_env(
        "MIGRATION_DATABASE_URL",
        concat!(
            "the owner role's URL, e.g. postgres://",
            env!("CARGO_PKG_NAME"),
            "_owner:PASSWORD@HOST/DB"
        ),
    )
    .map_err(|error| Failure::Refused(error.to_string()))?;
    db::migrate(owner, config.environment)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    tracing::info!(environment = %config.environment, "migrated");
    Ok(())
}

async fn seed_database(
    seed: u64,
    patients: usize,
    users_out: Option<PathBuf>,
) -> Result<(), Failure> {
    let config = config()?;
    let pool = service_pool().await?;
    let options = SeedOptions {
        seed,
        patients_per_clinic: patients,
    };
    let seeded = seed::seed(
        &pool,
        &PasswordHasher::for_this_machine(),
        &Keyring::new(config.keks.clone()),
        config.environment,
        &options,
    )
    .await
    .map_err(|error| match error {
        seed::SeedError::ProductionEnvironment
        | seed::SeedError::NotDevelopment(_)
        | seed::SeedError::AlreadySeeded => Failure::Refused(error.to_string()),
        other => Failure::Failed(other.to_string()),
    })?;
    if let Some(path) = users_out {
        seed::write_accounts(&path, &seeded).map_err(|error| Failure::Failed(error.to_string()))?;
        tracing::info!(path = %path.display(), "development accounts written");
    }
    Ok(())
}

async fn create_user(
    email: String,
    role: Role,
    clinic: Option<ClinicId>,
    new_clinic: Option<String>,
) -> Result<(), Failure> {
    let clinic = match (clinic, new_clinic) {
        (Some(id), _) => ClinicChoice::Existing(id),
        (None, Some(name)) => ClinicChoice::New(name),
        (None, None) => return Err(Failure::Refused("pass --clinic or --new-clinic".into())),
    };
    let mut password = String::new();
    io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|error| Failure::Failed(error.to_string()))?;
    let password = Password::new(password.trim_end_matches(['\r', '\n']));
    let config = config()?;
    let pool = service_pool().await?;
    let created = accounts::create(
        &pool,
        &PasswordHasher::for_this_machine(),
        &Keyring::new(config.keks.clone()),
        &SystemClock,
        NewUser {
            email,
            role,
            clinic,
            password,
        },
    )
    .await
    .map_err(|error| match error {
        accounts::AccountError::Database(_)
        | accounts::AccountError::Hash(_)
        | accounts::AccountError::Keys(_) => Failure::Failed(error.to_string()),
        refused => Failure::Refused(refused.to_string()),
    })?;
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &created)
        .map_err(|error| Failure::Failed(error.to_string()))?;
    writeln!(stdout).map_err(|error| Failure::Failed(error.to_string()))
}

async fn disable_user(email: String) -> Result<(), Failure> {
    let pool = service_pool().await?;
    accounts::disable(&pool, &SystemClock, &email)
        .await
        .map(|_| ())
        .map_err(account_failure)
}

async fn unlock_user(email: String) -> Result<(), Failure> {
    let pool = service_pool().await?;
    accounts::unlock(&pool, &SystemClock, &email)
        .await
        .map(|_| ())
        .map_err(account_failure)
}

fn account_failure(error: accounts::AccountError) -> Failure {
    match error {
        accounts::AccountError::NoSuchAccount => Failure::Refused(error.to_string()),
        other => Failure::Failed(other.to_string()),
    }
}

/// The owner role's connection, for the commands that see every clinic.
async fn owner_connection() -> Result<sqlx::PgConnection, Failure> {
    let owner = db::options_from_env(
        "MIGRATION_DATABASE_URL",
        concat!(
            "the owner role's URL, e.g. postgres://",
            env!("CARGO_PKG_NAME"),
            "_owner:PASSWORD@HOST/DB"
        ),
    )
    .map_err(|error| Failure::Refused(error.to_string()))?;
    sqlx::PgConnection::connect_with(&owner)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))
}

/// HIPAA 164.312(c)(1): recomputes every clinic's audit chain, and checks it against a
/// checkpoint when given; a broken link, a clinic without a chain, or a checkpointed head
/// the chain no longer holds fails, naming the clinic.
async fn verify_audit(checkpoint: Option<PathBuf>) -> Result<(), Failure> {
    let failed = |error: sqlx::Error| Failure::Failed(error.to_string());
    let checkpoint = match checkpoint {
        None => None,
        Some(path) => {
            let config = config()?;
            let text = std::fs::read_to_string(&path).map_err(|error| {
                Failure::Refused(format!("cannot read {}: {error}", path.display()))
            })?;
            Some(
                Checkpoint::open(&text, &config.keks.current)
                    .map_err(|error| Failure::Failed(format!("{}: {error}", path.display())))?,
            )
        }
    };
    let mut connection = owner_connection().await?;
    let verifications = audit::verify_all(&mut connection).await.map_err(failed)?;
    let findings = match &checkpoint {
        Some(checkpoint) => checkpoint.compare(&mut connection).await.map_err(failed)?,
        None => Vec::new(),
    };
    let report = serde_json::json!({
        "clinics": verifications
            .iter()
            .map(|verification| {
                serde_json::json!({
                    "clinic_id": verification.clinic_id.to_string(),
                    "ok": verification.broken.is_none(),
                    "events_checked": verification.events_checked,
                    "broken": verification.broken.map(|link| serde_json::json!({
                        "seq": link.seq,
                        "event_id": link.event_id.map(|id| id.to_string()),
                        "reason": link.reason.as_str(),
                    })),
                })
            })
            .collect::<Vec<_>>(),
        "checkpoint": checkpoint.as_ref().map(|checkpoint| serde_json::json!({
            "taken_at": checkpoint.taken_at,
            "ok": findings.is_empty(),
            "findings": findings.iter().map(|finding| serde_json::json!({
                "clinic_id": finding.clinic_id().to_string(),
                "problem": finding.describe(),
            })).collect::<Vec<_>>(),
        })),
    });
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &report)
        .map_err(|error| Failure::Failed(error.to_string()))?;
    writeln!(stdout).map_err(|error| Failure::Failed(error.to_string()))?;
    let mut problems: Vec<String> = verifications
        .iter()
        .filter_map(|verification| {
            verification.broken.map(|link| {
                format!(
                    "clinic {}: the audit chain is broken at event {} ({})",
                    verification.clinic_id,
                    link.seq,
                    link.reason.as_str()
                )
            })
        })
        .collect();
    problems.extend(findings.iter().map(Finding::describe));
    if !problems.is_empty() {
        return Err(Failure::Failed(problems.join("; ")));
    }
    tracing::info!(clinics = verifications.len(), "audit chains verified");
    Ok(())
}

/// HIPAA 164.312(b): every clinic's chain head under a MAC keyed from the KEK, to be kept
/// outside the database. The command is on each clinic's record before the heads are read,
/// so the checkpoint covers its own event.
async fn audit_checkpoint(out: Option<PathBuf>) -> Result<(), Failure> {
    let config = config()?;
    let failed = |error: sqlx::Error| Failure::Failed(error.to_string());
    let mut connection = owner_connection().await?;
    let now = SystemClock.now();
    audit::record_command_everywhere(
        &mut connection,
        AuditAction::AuditCheckpoint,
        "audit_events",
        now,
    )
    .await
    .map_err(failed)?;
    let checkpoint = Checkpoint::take(&mut connection, &config.keks.current, now)
        .await
        .map_err(failed)?;
    let text = serde_json::to_string_pretty(&checkpoint)
        .map_err(|error| Failure::Failed(error.to_string()))?;
    match out {
        Some(path) => std::fs::write(&path, format!("{text}\n")).map_err(|error| {
            Failure::Failed(format!("cannot write {}: {error}", path.display()))
        })?,
        None => {
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "{text}").map_err(|error| Failure::Failed(error.to_string()))?;
        }
    }
    tracing::info!(clinics = checkpoint.heads.len(), "audit checkpoint written");
    Ok(())
}

/// HIPAA 164.312(a)(2)(iv): moves every data key to the current key-encryption key.
async fn rotate_keys(new_data_key: bool) -> Result<(), Failure> {
    let config = config()?;
    let owner = db::options_from_env(
        "MIGRATION_DATABASE_URL",
        concat!(
            "the owner role's URL, e.g. postgres://",
            env!("CARGO_PKG_NAME"),
            "_owner:PASSWORD@HOST/DB"
        ),
    )
    .map_err(|error| Failure::Refused(error.to_string()))?;
    let mut connection = sqlx::PgConnection::connect_with(&owner)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    let keyring = Keyring::new(config.keks.clone());
    let rotation = rotation::rotate_keys(&mut connection, &keyring, new_data_key)
        .await
        .map_err(|error| Failure::Failed(error.to_string()))?;
    audit::record_command_everywhere(
        &mut connection,
        AuditAction::RotateKeys,
        "tenant_keys",
        SystemClock.now(),
    )
    .await
    .map_err(|error| Failure::Failed(error.to_string()))?;
    let report = serde_json::json!({
        "kek_id": keyring.current_kek_id(),
        "clinics": rotation.clinics,
        "rewrapped": rotation.rewrapped,
        "already_current": rotation.already_current,
        "data_keys_added": rotation.data_keys_added,
    });
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &report)
        .map_err(|error| Failure::Failed(error.to_string()))?;
    writeln!(stdout).map_err(|error| Failure::Failed(error.to_string()))?;
    tracing::info!(
        clinics = rotation.clinics,
        rewrapped = rotation.rewrapped,
        "data keys wrapped under the current key-encryption key"
    );
    Ok(())
}

/// A fresh key-encryption key on stdout, for the operator to store with the key provider.
fn generate_kek() -> Result<(), Failure> {
    let kek = Kek::generate().map_err(|error| Failure::Failed(error.to_string()))?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", kek.to_base64()).map_err(|error| Failure::Failed(error.to_string()))
}
