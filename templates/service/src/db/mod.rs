//! PostgreSQL: connections, migrations, the deployment marker, and the per-request scope.
//!
//! Two roles (db/bootstrap.sql): the service connects as [`SERVICE_ROLE`] with
//! `DATABASE_URL`; `migrate` runs as [`OWNER_ROLE`] with `MIGRATION_DATABASE_URL`. The
//! service role owns nothing and cannot bypass row-level security, so every query it runs
//! sees only the rows of the clinic its transaction is scoped to (HIPAA 164.312(a)(1)).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

pub use crate::config::Deployment;
use crate::config::Environment;
use crate::ids::{ClinicId, UserId, to_uuid};

pub mod bootstrap;

/// Owns the schema and runs the migrations.
pub const OWNER_ROLE: &str = concat!(env!("CARGO_PKG_NAME"), "_owner");
/// What the service connects as.
pub const SERVICE_ROLE: &str = concat!(env!("CARGO_PKG_NAME"), "_service");

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A transaction whose queries see one clinic's rows.
pub type Tx = Transaction<'static, Postgres>;

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0} is not set: {1}")]
    MissingUrl(&'static str, &'static str),
    #[error("{0} is not a valid PostgreSQL URL")]
    InvalidUrl(&'static str),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connection settings from the environment variable `name` (whose value is never
/// echoed: it holds a password).
pub fn options_from_env(
    name: &'static str,
    what: &'static str,
) -> Result<PgConnectOptions, DbError> {
    let url = std::env::var(name).map_err(|_| DbError::MissingUrl(name, what))?;
    PgConnectOptions::from_str(&url).map_err(|_| DbError::InvalidUrl(name))
}

/// A pool for the service role. `DATABASE_MAX_CONNECTIONS` sizes it (default 10).
pub async fn connect(options: PgConnectOptions) -> Result<PgPool, DbError> {
    let max_connections = std::env::var("DATABASE_MAX_CONNECTIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10);
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?)
}

/// Runs the pending migrations as the owner role, then marks the database with the
/// environment it serves (see [`Deployment`]).
pub async fn migrate(owner: PgConnectOptions, environment: Environment) -> Result<(), DbError> {
    let mut connection = PgConnection::connect_with(&owner).await?;
    MIGRATOR.run(&mut connection).await?;
    let mark = match environment {
        Environment::Development => "development",
        Environment::Production => "production",
    };
    // A fresh database takes the mark; development may become production, never back.
    sqlx::query!(
        "UPDATE deployment SET environment = $1, marked_at = now()
         WHERE environment <> $1 AND (environment = 'unmarked' OR $1 = 'production')",
        mark
    )
    .execute(&mut connection)
    .await?;
    connection.close().await?;
    Ok(())
}

/// Reads the deployment marker.
pub async fn deployment(connection: &mut PgConnection) -> Result<Deployment, DbError> {
    let environment = sqlx::query_scalar!("SELECT environment FROM deployment")
        .fetch_one(connection)
        .await?;
    Ok(match environment.as_str() {
        "development" => Deployment::Development,
        "production" => Deployment::Production,
        _ => Deployment::Unmarked,
    })
}

/// Begins a transaction scoped to `clinic` and, when known, `user`. The settings are
/// transaction-local (`set_config(..., true)`): they end with the transaction and never
/// reach the next user of the pooled connection (HIPAA 164.312(a)(1)).
pub async fn begin_scoped(
    pool: &PgPool,
    clinic: ClinicId,
    user: Option<UserId>,
) -> Result<Tx, sqlx::Error> {
    let mut tx = pool.begin().await?;
    set_scope(&mut tx, clinic, user).await?;
    Ok(tx)
}

/// Scopes the rest of `tx` to `clinic` and `user`, and clears the lookup settings that
/// login and session checks use before the clinic is known.
pub async fn set_scope(
    tx: &mut PgConnection,
    clinic: ClinicId,
    user: Option<UserId>,
) -> Result<(), sqlx::Error> {
    let user = user
        .map(|user| to_uuid(user).to_string())
        .unwrap_or_default();
    sqlx::query!(
        r#"SELECT set_config('app.tenant_id', $1, true) AS "tenant!",
                  set_config('app.user_id', $2, true) AS "user!",
                  set_config('app.login_email', '', true) AS "login_email!",
                  set_config('app.session_token_hash', '', true) AS "session!",
                  set_config('app.throttle_key', '', true) AS "throttle!""#,
        to_uuid(clinic).to_string(),
        user
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

/// Sets one transaction-local lookup setting (`app.login_email`,
/// `app.session_token_hash`, `app.throttle_key`) for the policies that admit one row
/// before the clinic is known.
pub async fn set_lookup(
    tx: &mut PgConnection,
    setting: Lookup,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT set_config($1, $2, true) AS "value!""#,
        setting.name(),
        value
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

/// The settings that open one row before the clinic is known.
#[derive(Debug, Clone, Copy)]
pub enum Lookup {
    /// The account with this email address (login).
    LoginEmail,
    /// The session with this token hash, hex (every authenticated request).
    SessionTokenHash,
    /// The throttle row with this key, hex (login).
    ThrottleKey,
    /// The invitation or reset token with this selector (its holder, before any session).
    AccountTokenId,
}

impl Lookup {
    fn name(self) -> &'static str {
        match self {
            Self::LoginEmail => "app.login_email",
            Self::SessionTokenHash => "app.session_token_hash",
            Self::ThrottleKey => "app.throttle_key",
            Self::AccountTokenId => "app.account_token_id",
        }
    }
}
