//! Creates the roles and a database on a cluster the caller administers: what a DBA does
//! once with `db/bootstrap.sql` and `createdb`, done in one call for the development
//! server and the tests, which start their own throwaway clusters.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::{DbError, OWNER_ROLE, SERVICE_ROLE};

/// The roles' connection settings for one database, with fresh random passwords.
#[derive(Clone)]
pub struct Roles {
    pub owner: PgConnectOptions,
    pub service: PgConnectOptions,
    pub owner_password: String,
    pub service_password: String,
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Roles { passwords redacted }")
    }
}

/// Runs `db/bootstrap.sql` as the administrator `admin`, gives both roles new random
/// passwords, and creates `database` owned by the owner role.
pub async fn bootstrap(admin: &PgConnectOptions, database: &str) -> Result<Roles, DbError> {
    let mut connection = PgConnection::connect_with(admin).await?;
    sqlx::raw_sql(include_str!("../../db/bootstrap.sql"))
        .execute(&mut connection)
        .await?;
    let owner_password = random_password()?;
    let service_password = random_password()?;
    for (role, password) in [
        (OWNER_ROLE, &owner_password),
        (SERVICE_ROLE, &service_password),
    ] {
        // Utility statements take no parameters: format() quotes both parts.
        let statement: String =
            sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
                .bind(role)
                .bind(password)
                .fetch_one(&mut connection)
                .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await?;
    }
    create_database(&mut connection, database, None).await?;
    connection.close().await?;
    Ok(Roles {
        owner: admin
            .clone()
            .username(OWNER_ROLE)
            .password(&owner_password)
            .database(database),
        service: admin
            .clone()
            .username(SERVICE_ROLE)
            .password(&service_password)
            .database(database),
        owner_password,
        service_password,
    })
}

/// Creates `database` owned by the owner role, as a copy of `template` when given (the
/// tests copy one migrated database instead of migrating each of their own), where no
/// role but the owner may create temporary tables: a temporary table can shadow a table
/// the audit trail is written to (the migrations revoke it too, but a copy does not
/// inherit a database's privileges).
pub async fn create_database(
    admin: &mut PgConnection,
    database: &str,
    template: Option<&str>,
) -> Result<(), DbError> {
    let statements: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(ARRAY[
             format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)
                 || CASE WHEN $3::text IS NULL THEN '' ELSE format(' TEMPLATE %I', $3::text) END,
             format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, %I', $1::text, $4::text)])",
    )
    .bind(database)
    .bind(OWNER_ROLE)
    .bind(template)
    .bind(SERVICE_ROLE)
    .fetch_all(&mut *admin)
    .await?;
    for statement in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *admin)
            .await?;
    }
    Ok(())
}

fn random_password() -> Result<String, DbError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| DbError::Sqlx(sqlx::Error::Io(e.into())))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}
