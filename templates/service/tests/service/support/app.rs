//! The service on a test database, with the accounts, sign-ins and calls the tests make.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Duration;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tower::ServiceExt;

// `::` names the service crate even when the project is called like one of its modules
// (a project named `clinic` also has `models::clinic`, imported below).
use ::service::accounts::{self, ClinicChoice, NewUser};
use ::service::auth::password::{Password, PasswordHasher};
use ::service::auth::{Role, totp};
use ::service::clock::{Clock, ManualClock};
use ::service::config::Config;
use ::service::config::SessionPolicy;
use ::service::crypto::{KekRing, Keyring};
use ::service::egress::EgressClient;
use ::service::ids::{ClinicId, UserId};
use ::service::models::clinic;
use ::service::{AppState, app};

use super::database::TestDb;

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
