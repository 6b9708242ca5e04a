//! The cluster and the databases: one throwaway PostgreSQL per test binary, one migrated
//! template, and a copy of it for every test.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Mutex, OnceCell};

use ::service::config::Environment;
use ::service::db;
use ::service::db::bootstrap::{self, Roles};

struct Shared {
    /// Kept for the life of the process; its watchdog removes it after the process exits.
    _cluster: Option<pg_throwaway::Cluster>,
    admin: PgConnectOptions,
    roles: Roles,
    template: String,
}

static SHARED: OnceCell<Shared> = OnceCell::const_new();
/// CREATE DATABASE ... TEMPLATE needs the template to itself: one copy at a time.
static COPYING: Mutex<()> = Mutex::const_new(());
static DATABASES: AtomicUsize = AtomicUsize::new(0);

async fn shared() -> &'static Shared {
    SHARED
        .get_or_init(|| async {
            let (cluster, admin) = match std::env::var("DATABASE_URL") {
                Ok(url) => (
                    None,
                    PgConnectOptions::from_str(&url).expect(
                        "DATABASE_URL must be an administrator's URL on a disposable cluster",
                    ),
                ),
                Err(_) => {
                    let cluster = tokio::task::spawn_blocking(pg_throwaway::Cluster::start)
                        .await
                        .expect("the cluster start does not panic")
                        .unwrap_or_else(|error| panic!("cannot start PostgreSQL: {error}"));
                    let admin = PgConnectOptions::from_str(&cluster.superuser_url("postgres"))
                        .expect("a valid URL");
                    (Some(cluster), admin)
                }
            };
            let template = format!("{}_template_{}", env!("CARGO_PKG_NAME"), std::process::id());
            let roles = bootstrap::bootstrap(&admin, &template)
                .await
                .unwrap_or_else(|error| panic!("cannot create the roles and database: {error}"));
            db::migrate(roles.owner.clone(), Environment::Development)
                .await
                .unwrap_or_else(|error| panic!("cannot migrate the template: {error}"));
            Shared {
                _cluster: cluster,
                admin,
                roles,
                template,
            }
        })
        .await
}

/// A fresh, migrated database of its own, marked development.
pub struct TestDb {
    pub name: String,
    /// The service role, as the service connects.
    pub service: PgConnectOptions,
    /// The owner role, as migrations run.
    pub owner: PgConnectOptions,
    /// A superuser, to look behind row-level security.
    pub admin: PgConnectOptions,
    /// The owner role's URL, for the commands that read `MIGRATION_DATABASE_URL`.
    pub owner_url: String,
    /// The service role's URL, for the commands that read `DATABASE_URL`.
    pub service_url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let shared = shared().await;
        let name = format!(
            "{}_test_{}_{}",
            env!("CARGO_PKG_NAME"),
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::SeqCst)
        );
        {
            let _one_at_a_time = COPYING.lock().await;
            let mut admin = PgConnection::connect_with(&shared.admin)
                .await
                .expect("the administrator connects");
            bootstrap::create_database(&mut admin, &name, Some(&shared.template))
                .await
                .expect("the template copies");
            admin.close().await.expect("closes");
        }
        let owner = shared.roles.owner.clone().database(&name);
        let url = |role: &str, password: &str| {
            format!(
                "postgres://{role}:{password}@{}:{}/{name}",
                owner.get_host(),
                owner.get_port()
            )
        };
        let owner_url = url(db::OWNER_ROLE, &shared.roles.owner_password);
        let service_url = url(db::SERVICE_ROLE, &shared.roles.service_password);
        Self {
            service: shared.roles.service.clone().database(&name),
            owner,
            admin: shared.admin.clone().database(&name),
            owner_url,
            service_url,
            name,
        }
    }

    /// A pool of service-role connections.
    pub async fn service_pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.service.clone())
            .await
            .expect("the service role connects")
    }

    pub async fn connect(options: &PgConnectOptions) -> PgConnection {
        PgConnection::connect_with(options).await.expect("connects")
    }

    /// The columns the migrations mark as PHI (`COMMENT ON COLUMN ... IS 'PHI: ...'`, the
    /// source of compliance/phi-inventory.md): table, column and type, in that order.
    pub async fn phi_columns(&self) -> Vec<(String, String, String)> {
        let mut admin = TestDb::connect(&self.admin).await;
        sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text
             FROM information_schema.columns c
             JOIN pg_class t ON t.relname = c.table_name
             JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = c.table_schema
             WHERE c.table_schema = 'public'
               AND col_description(t.oid, c.ordinal_position::int) LIKE 'PHI:%'
             ORDER BY 1, 2",
        )
        .fetch_all(&mut admin)
        .await
        .expect("reads the column comments")
    }
}

/// The SQLSTATE of a database error (e.g. 42501, insufficient privilege).
pub fn sqlstate(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.code().unwrap_or_default().into_owned(),
        other => panic!("not a database error: {other}"),
    }
}
