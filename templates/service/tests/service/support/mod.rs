//! The test harness: a real PostgreSQL for every test, never a mock.
//!
//! Without `DATABASE_URL`, this test binary starts one throwaway cluster
//! (`tools/pg-throwaway`: initdb into a temporary directory, a free port on 127.0.0.1, run
//! as the `postgres` user when the tests run as root), creates the two roles, and migrates
//! one template database. Each test gets its own copy of the template, so tests are
//! isolated and run in parallel. The cluster is removed when the test binary exits, passed
//! or failed. With `DATABASE_URL`, the tests use that cluster instead: it must be an
//! administrator's URL on a disposable cluster (the harness creates roles and databases).
//!
//! [`TestApp`] is the service on such a database, with a [`ManualClock`] the tests move
//! instead of sleeping, and helpers to create accounts, sign in and call the API.

#![allow(
    dead_code,
    reason = "each test module uses a different part of the harness"
)]

pub mod account_api;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Duration;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Mutex, OnceCell};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

// `::` names the service crate even when the project is called like one of its modules
// (a project named `clinic` also has `models::clinic`, imported below).
use ::service::accounts::{self, ClinicChoice, NewUser};
use ::service::auth::password::{Password, PasswordHasher};
use ::service::auth::session::SessionPolicy;
use ::service::auth::{Role, totp};
use ::service::clock::{Clock, ManualClock};
use ::service::config::{Config, Environment};
use ::service::crypto::{KekRing, Keyring};
use ::service::db::bootstrap::{self, Roles};
use ::service::egress::EgressClient;
use ::service::models::clinic;
use ::service::models::ids::{ClinicId, UserId};
use ::service::{AppState, app, db};

/// One cluster and one migrated template database per test binary.
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

/// A development account made for a test, with what signing in needs.
#[derive(Clone)]
pub struct TestUser {
    pub id: UserId,
    pub clinic: ClinicId,
    pub role: Role,
    pub email: String,
    pub password: String,
    pub totp_secret: Option<Vec<u8>>,
}

/// The service's binary, for the tests of its commands.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_{{crate_name}}")
}

/// The password every test account gets: long enough, not a common one.
pub const PASSWORD: &str = "synthetic correct battery horse";

/// The address requests come from unless a test says otherwise.
pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The service on its own database.
pub struct TestApp {
    pub db: TestDb,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub state: AppState,
    pub router: Router,
    /// The last TOTP time step each account used.
    totp_steps: std::sync::Mutex<std::collections::HashMap<UserId, i64>>,
}

/// A response, its body parsed as JSON (`Value::Null` when empty, a string when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_pool_size(4).await
    }

    /// The service with a pool of `max_connections` (the pool-exhaustion tests).
    pub async fn with_pool_size(max_connections: u32) -> Self {
        let db = TestDb::new().await;
        let pool = db.service_pool(max_connections).await;
        let clock = ManualClock::starting_now();
        let config = Config::from_lookup(|_| None).expect("the default configuration");
        let state = AppState {
            pool: pool.clone(),
            clock: std::sync::Arc::new(clock.clone()),
            hasher: PasswordHasher::new(2),
            sessions: SessionPolicy::from_config(&config),
            behind_tls_proxy: false,
            environment: config.environment,
            cors_allowed_origins: Vec::new(),
            keyring: std::sync::Arc::new(Keyring::new(config.keks.clone())),
            egress: std::sync::Arc::new(
                EgressClient::new(pool.clone()).expect("the shipped vendor list holds"),
            ),
        };
        Self {
            router: app(state.clone()),
            db,
            pool,
            clock,
            state,
            totp_steps: Default::default(),
        }
    }

    /// The same service, restarted with other key-encryption keys: nothing of the old
    /// key ring stays in memory.
    pub fn restart_with_keys(&mut self, keks: KekRing) {
        self.state.keyring = std::sync::Arc::new(Keyring::new(keks));
        self.router = app(self.state.clone());
    }

    /// A new clinic.
    pub async fn clinic(&self, name: &str) -> ClinicId {
        let mut tx = self.pool.begin().await.expect("begins");
        let id = clinic::create(&mut tx, name)
            .await
            .expect("the clinic is created");
        tx.commit().await.expect("commits");
        id
    }

    /// A new account with `role` in `clinic`.
    pub async fn user(&self, clinic: ClinicId, role: Role) -> TestUser {
        static USERS: AtomicUsize = AtomicUsize::new(0);
        let email = format!(
            "{role}-{}@test.example.org",
            USERS.fetch_add(1, Ordering::SeqCst)
        );
        let created = accounts::create(
            &self.pool,
            &self.state.hasher,
            &self.state.keyring,
            &*self.state.clock,
            NewUser {
                email: email.clone(),
                role,
                clinic: ClinicChoice::Existing(clinic),
                password: Password::new(PASSWORD),
            },
        )
        .await
        .expect("the account is created");
        TestUser {
            id: created.user_id,
            clinic,
            role,
            email,
            password: PASSWORD.to_owned(),
            totp_secret: created.totp_secret.as_deref().and_then(totp::decode_base32),
        }
    }

    /// The TOTP code of `user` now. Each time step's code is accepted once per account,
    /// so when this account used the current step already, the clock first moves on to
    /// the next step (other accounts' sessions barely age).
    pub fn totp_code(&self, user: &TestUser) -> String {
        let step = |clock: &ManualClock| clock.now().timestamp().div_euclid(30);
        let mut used = self.totp_steps.lock().unwrap_or_else(|e| e.into_inner());
        if used
            .get(&user.id)
            .is_some_and(|last| *last >= step(&self.clock))
        {
            let into_step = self.clock.now().timestamp().rem_euclid(30);
            self.clock.advance(Duration::seconds(30 - into_step));
        }
        used.insert(user.id, step(&self.clock));
        totp::code_at(
            user.totp_secret.as_deref().expect("the account has TOTP"),
            self.clock.now(),
        )
    }

    /// Signs `user` in (password, then TOTP where the role needs it) and returns the
    /// bearer token of the complete session.
    pub async fn sign_in(&self, user: &TestUser) -> String {
        let reply = self.log_in(&user.email, &user.password, LOOPBACK).await;
        assert_eq!(reply.status, StatusCode::OK, "login of {}", user.email);
        let token = reply.body["token"]
            .as_str()
            .expect("a bearer token")
            .to_owned();
        if reply.body["mfa_required"] == Value::Bool(false) {
            return token;
        }
        let reply = self.mfa(&token, &self.totp_code(user)).await;
        assert_eq!(reply.status, StatusCode::OK, "mfa of {}", user.email);
        reply.body["token"]
            .as_str()
            .expect("a bearer token")
            .to_owned()
    }

    /// The token of a session that has the password and still owes its TOTP code.
    pub async fn pending(&self, user: &TestUser) -> String {
        let reply = self.log_in(&user.email, &user.password, LOOPBACK).await;
        assert_eq!(reply.body["mfa_required"], Value::Bool(true));
        reply.body["token"]
            .as_str()
            .expect("a bearer token")
            .to_owned()
    }

    /// `POST /auth/mfa` with `code` for the pending session `pending`.
    pub async fn mfa(&self, pending: &str, code: &str) -> Reply {
        self.call(
            Method::POST,
            "/auth/mfa",
            Some(pending),
            Some(serde_json::json!({ "code": code })),
        )
        .await
    }

    /// `POST /auth/mfa` with `code` for `pending`, from `source`.
    pub async fn mfa_from(&self, pending: &str, code: &str, source: IpAddr) -> Reply {
        self.send(mfa_request(pending, code, source)).await
    }

    /// Sends every request at once, each on a task of its own, and answers in order.
    pub async fn send_all(&self, requests: Vec<Request<Body>>) -> Vec<Reply> {
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|request| tokio::spawn(reply_of(self.router.clone(), request)))
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("the request task does not panic"));
        }
        replies
    }

    /// A second instance of the service on the same database, as a second `serve`
    /// process (or a restart) would be: its own pool, nothing shared in memory.
    pub async fn another_instance(&self) -> Router {
        let mut state = self.state.clone();
        state.pool = self.db.service_pool(4).await;
        state.keyring = std::sync::Arc::new(Keyring::new(
            Config::from_lookup(|_| None)
                .expect("the default configuration")
                .keks,
        ));
        app(state)
    }

    /// `POST /auth/login` from `source`, asking for a bearer token.
    pub async fn log_in(&self, email: &str, password: &str, source: IpAddr) -> Reply {
        self.send(login_request(email, password, source)).await
    }

    /// Calls the API with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("a request");
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        reply_of(self.router.clone(), request).await
    }

    /// A synthetic patient created through the API by `token`'s user; returns its id.
    pub async fn patient(&self, token: &str, mrn: &str) -> String {
        let reply = self
            .call(
                Method::POST,
                "/patients",
                Some(token),
                Some(serde_json::json!({
                    "mrn": mrn,
                    "given_name": "Testpatient",
                    "family_name": "Synthetic",
                    "date_of_birth": "1970-01-01"
                })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_str().expect("an id").to_owned()
    }

    /// Rows of `table` as a superuser sees them, behind row-level security.
    pub async fn count_as_admin(&self, table: &str) -> i64 {
        let mut admin = TestDb::connect(&self.db.admin).await;
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut admin)
            .await
            .expect("counts")
    }
}

/// The SQLSTATE of a database error (e.g. 42501, insufficient privilege).
pub fn sqlstate(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.code().unwrap_or_default().into_owned(),
        other => panic!("not a database error: {other}"),
    }
}

/// The service without a database, for tests that never reach one (the pool connects
/// lazily, to nowhere).
pub fn offline_app() -> Router {
    offline_app_with(&[])
}

/// [`offline_app`] with the environment variables `vars`.
pub fn offline_app_with(vars: &[(&str, &str)]) -> Router {
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("a valid configuration");
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(9)
        .username("nobody");
    let state = AppState::new(PgPoolOptions::new().connect_lazy_with(options), &config)
        .expect("the shipped vendor list holds");
    app(state)
}

/// The service's JSON log output, captured on this thread while it lives.
pub struct LogCapture {
    pub captured: Captured,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl LogCapture {
    /// Captures what `logging::json_subscriber` writes at `filter` (e.g. `info`).
    pub fn start(filter: &str) -> Self {
        let captured = Captured::default();
        let dispatch = tracing::Dispatch::new(::service::logging::json_subscriber(
            tracing_subscriber::EnvFilter::new(filter),
            captured.clone(),
        ));
        // tracing caches whether a log statement is enabled, process-wide. With a single
        // scoped subscriber it asks only the calling thread's, so a statement first reached
        // by another test's thread would stay off for this one too. A second live
        // dispatcher makes it ask every live subscriber, this one included.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        Self {
            captured,
            _guard: tracing::dispatcher::set_default(&dispatch),
            _second: second,
        }
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        self.captured.text()
    }
}

/// Collects everything a log subscriber writes (see `logging::json_subscriber`).
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8(bytes).expect("logs are UTF-8")
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Captured {
    type Writer = Self;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

/// `POST /auth/login` from `source`, asking for a bearer token.
pub fn login_request(email: &str, password: &str, source: IpAddr) -> Request<Body> {
    Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-session-transport", "bearer")
        .extension(ConnectInfo(SocketAddr::new(source, 40_000)))
        .body(Body::from(
            serde_json::json!({ "email": email, "password": password }).to_string(),
        ))
        .expect("a request")
}

/// `POST /auth/mfa` with `code` for the pending session `pending`, from `source`.
pub fn mfa_request(pending: &str, code: &str, source: IpAddr) -> Request<Body> {
    Request::post("/auth/mfa")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-session-transport", "bearer")
        .header(header::AUTHORIZATION, format!("Bearer {pending}"))
        .extension(ConnectInfo(SocketAddr::new(source, 40_000)))
        .body(Body::from(serde_json::json!({ "code": code }).to_string()))
        .expect("a request")
}

/// What `router` answers to `request`, its body parsed as JSON.
pub async fn reply_of(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body is read")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}
