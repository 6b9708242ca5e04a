//! The accounts API as the tests drive it: invitations accepted, enrollments confirmed and
//! resets completed through the routes, never around them, and what the tests look at
//! afterwards (the account list, the session list, the audit trail as a superuser sees
//! it, every row of the database as text).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use sqlx::Row;

use ::service::auth::{Role, totp};
use ::service::ids::{ClinicId, UserId, from_uuid};

use super::{LOOPBACK, PASSWORD, Reply, TestApp, TestDb, TestUser};

/// A request from `source` with an optional bearer token and JSON body. It asks for any
/// session it starts as a bearer token in the body (`x-session-transport: bearer`), as
/// API clients do; routes that start no session ignore the header.
pub fn api_request(
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
    source: IpAddr,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-session-transport", "bearer")
        .extension(ConnectInfo(SocketAddr::new(source, 40_000)));
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("a request")
}

/// A new address at `example.org` (reserved for examples, RFC 2606), unlike every other
/// one this test binary makes.
pub fn fresh_email(prefix: &str) -> String {
    static EMAILS: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}@test.example.org",
        EMAILS.fetch_add(1, Ordering::SeqCst)
    )
}

/// An invitation as the admin received it: shown once.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: String,
    pub token: String,
    pub email: String,
    pub role: Role,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// An invited account after it accepted (password set, TOTP enrollment started).
pub struct Accepted {
    /// The account, with the TOTP secret it was shown, for [`TestApp::totp_code`].
    pub user: TestUser,
    /// The session that may only confirm the enrollment.
    pub enrolling: String,
    pub totp_secret: String,
    pub totp_uri: String,
}

/// An invited account that confirmed its enrollment.
pub struct Onboarded {
    pub user: TestUser,
    pub invitation: Invitation,
    /// The complete session enrollment started.
    pub token: String,
    pub recovery_codes: Vec<String>,
    /// Every secret handed out on the way, as shown: tokens, the TOTP secret and URI.
    pub secrets: Vec<String>,
}

/// One stored audit event, as a superuser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub clinic: String,
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: String,
}

/// The typed id of a UUID in an answer.
pub fn user_id(value: &Value) -> UserId {
    let text = value.as_str().expect("an id");
    from_uuid(uuid::Uuid::parse_str(text).expect("a UUID"))
}

/// The timestamp of an answer (RFC 3339).
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .to_utc()
}

impl TestApp {
    /// `method uri` from the usual address, as an API client (see [`api_request`]).
    pub async fn api(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(api_request(method, uri, token, body, LOOPBACK))
            .await
    }

    /// A new admin of `clinic`, signed in: the account and its token.
    pub async fn admin(&self, clinic: ClinicId) -> (TestUser, String) {
        let admin = self.user(clinic, Role::Admin).await;
        let token = self.sign_in(&admin).await;
        (admin, token)
    }

    /// `POST /users/invitations` by `token`'s user.
    pub async fn invite(&self, token: &str, email: &str, role: Role) -> Reply {
        self.api(
            Method::POST,
            "/users/invitations",
            Some(token),
            Some(json!({ "email": email, "role": role })),
        )
        .await
    }

    /// An invitation of a new address to `role`, by the admin `token`.
    pub async fn invitation(&self, token: &str, role: Role) -> Invitation {
        let email = fresh_email("invitee");
        let reply = self.invite(token, &email, role).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        Invitation {
            id: reply.body["invitation_id"]
                .as_str()
                .expect("an invitation id")
                .to_owned(),
            token: reply.body["token"].as_str().expect("a token").to_owned(),
            email,
            role,
            expires_at: timestamp(&reply.body["expires_at"]),
        }
    }

    /// `POST /invitations/accept` with `token` and `password`.
    pub async fn accept(&self, token: &str, password: &str) -> Reply {
        self.api(
            Method::POST,
            "/invitations/accept",
            None,
            Some(json!({ "token": token, "password": password })),
        )
        .await
    }

    /// Accepts `invitation` with [`PASSWORD`]; the account is in `clinic`.
    pub async fn accepted(&self, invitation: &Invitation, clinic: ClinicId) -> Accepted {
        let reply = self.accept(&invitation.token, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        accepted_from(&reply, invitation.role, clinic, PASSWORD)
    }

    /// `POST /auth/mfa/enroll` with `code` for the enrolling session `enrolling`.
    pub async fn enroll(&self, enrolling: &str, code: &str) -> Reply {
        self.api(
            Method::POST,
            "/auth/mfa/enroll",
            Some(enrolling),
            Some(json!({ "code": code })),
        )
        .await
    }

    /// A new account with `role` in `clinic`, made as a person would: the admin `token`
    /// invites, the invitee accepts and confirms a TOTP code.
    pub async fn onboard(&self, token: &str, clinic: ClinicId, role: Role) -> Onboarded {
        let invitation = self.invitation(token, role).await;
        let accepted = self.accepted(&invitation, clinic).await;
        let code = self.totp_code(&accepted.user);
        let reply = self.enroll(&accepted.enrolling, &code).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let session = reply.body["token"].as_str().expect("a token").to_owned();
        let recovery_codes = recovery_codes(&reply.body);
        Onboarded {
            secrets: vec![
                invitation.token.clone(),
                accepted.enrolling,
                accepted.totp_secret,
                accepted.totp_uri,
                session.clone(),
            ],
            user: accepted.user,
            invitation,
            token: session,
            recovery_codes,
        }
    }

    /// `POST /users/{id}/password-reset` of `user` by the admin `token`: the reset token.
    pub async fn reset_token(&self, token: &str, user: &TestUser) -> String {
        let uri = format!("/users/{}/password-reset", user.id);
        let reply = self.call(Method::POST, &uri, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["token"].as_str().expect("a token").to_owned()
    }

    /// `POST /password-reset/complete` with `token`, the new `password` and the second
    /// factor `code`, when one is given.
    pub async fn complete_reset(&self, token: &str, password: &str, code: Option<&str>) -> Reply {
        let mut body = json!({ "token": token, "password": password });
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        self.api(Method::POST, "/password-reset/complete", None, Some(body))
            .await
    }

    /// `PATCH /users/{id}` of `user` with `changes`, by `token`'s user.
    pub async fn patch_user(&self, token: &str, user: UserId, changes: Value) -> Reply {
        let uri = format!("/users/{user}");
        self.call(Method::PATCH, &uri, Some(token), Some(changes))
            .await
    }

    /// Signs `user` in from `source` (password, then TOTP where the role needs it) and
    /// returns the bearer token of the complete session.
    pub async fn sign_in_from(&self, user: &TestUser, source: IpAddr) -> String {
        let reply = self.log_in(&user.email, &user.password, source).await;
        assert_eq!(reply.status, StatusCode::OK, "login of {}", user.email);
        let token = reply.body["token"].as_str().expect("a token").to_owned();
        if reply.body["mfa_required"] == json!(false) {
            return token;
        }
        let reply = self.mfa_from(&token, &self.totp_code(user), source).await;
        assert_eq!(reply.status, StatusCode::OK, "mfa of {}", user.email);
        reply.body["token"].as_str().expect("a token").to_owned()
    }

    /// A password-only session of `user`, completed with the recovery code `code`.
    pub async fn recover(&self, user: &TestUser, code: &str) -> Reply {
        let pending = self.pending(user).await;
        self.mfa(&pending, code).await
    }

    /// `GET /users` as `token`'s admin: the accounts listed.
    pub async fn listed_users(&self, token: &str) -> Vec<Value> {
        let reply = self.call(Method::GET, "/users", Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["users"].as_array().expect("a list").clone()
    }

    /// `GET /me/sessions` as `token`'s user: the sessions listed.
    pub async fn listed_sessions(&self, token: &str) -> Vec<Value> {
        let reply = self
            .call(Method::GET, "/me/sessions", Some(token), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["sessions"].as_array().expect("a list").clone()
    }

    /// The id of the session `token` presents, from its own list.
    pub async fn session_id(&self, token: &str) -> String {
        let sessions = self.listed_sessions(token).await;
        let current: Vec<&Value> = sessions
            .iter()
            .filter(|session| session["current"] == json!(true))
            .collect();
        assert_eq!(current.len(), 1, "{sessions:?}");
        current[0]["id"].as_str().expect("an id").to_owned()
    }

    /// Whether `token` still opens a route.
    pub async fn opens(&self, token: &str) -> bool {
        let reply = self.call(Method::GET, "/me", Some(token), None).await;
        reply.status == StatusCode::OK
    }

    /// Every audit event of the database, every clinic's, in order.
    pub async fn audit_rows(&self) -> Vec<AuditRow> {
        let mut admin = TestDb::connect(&self.db.admin).await;
        sqlx::query(
            "SELECT clinic_id::text, actor_user_id::text, action, resource_type,
                    resource_id::text, outcome
             FROM audit_events ORDER BY clinic_id, seq",
        )
        .fetch_all(&mut admin)
        .await
        .expect("reads the audit trail")
        .into_iter()
        .map(|row| AuditRow {
            clinic: row.get(0),
            actor: row.get(1),
            action: row.get(2),
            resource_type: row.get(3),
            resource_id: row.get(4),
            outcome: row.get(5),
        })
        .collect()
    }

    /// Every row of every table of the public schema as text, read by a superuser.
    pub async fn database_as_text(&self) -> String {
        let mut admin = TestDb::connect(&self.db.admin).await;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
        .fetch_all(&mut admin)
        .await
        .expect("lists the tables");
        let mut text = String::new();
        for table in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM {table} t"
            )))
            .fetch_all(&mut admin)
            .await
            .expect("reads the table");
            text.push_str(&rows.join("\n"));
            text.push('\n');
        }
        text
    }
}

/// The account an accept answer `reply` describes, with `role` in `clinic`, its password
/// `password`.
pub fn accepted_from(reply: &Reply, role: Role, clinic: ClinicId, password: &str) -> Accepted {
    let totp_secret = reply.body["totp_secret"]
        .as_str()
        .expect("a TOTP secret")
        .to_owned();
    Accepted {
        user: TestUser {
            id: user_id(&reply.body["user_id"]),
            clinic,
            role,
            email: reply.body["email"].as_str().expect("an email").to_owned(),
            password: password.to_owned(),
            totp_secret: Some(totp::decode_base32(&totp_secret).expect("base32")),
        },
        enrolling: reply.body["token"]
            .as_str()
            .expect("an enrolling token")
            .to_owned(),
        totp_uri: reply.body["totp_uri"]
            .as_str()
            .expect("a TOTP URI")
            .to_owned(),
        totp_secret,
    }
}

/// The recovery codes of an answer.
pub fn recovery_codes(body: &Value) -> Vec<String> {
    body["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|code| code.as_str().expect("a code").to_owned())
        .collect()
}
