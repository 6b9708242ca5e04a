//! The accounts API: invitations and TOTP enrollment, role and state changes, password
//! changes and resets, recovery codes, and the sessions an account sees and ends (HIPAA
//! 164.308(a)(3)(ii)(C) termination procedures, 164.308(a)(4)(ii)(B)-(C) access
//! authorization, establishment and modification; NIST SP 800-63B; OWASP ASVS V2, V3).
//! Time moves on the injected clock.

mod administration;
mod credentials;
mod invitations;
mod records;
mod sessions;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};

use ::service::accounts::{self, ClinicChoice, NewUser};
use ::service::auth::password::Password;
use ::service::auth::{Role, totp};
use ::service::clock::Clock;
use ::service::db::SERVICE_ROLE;
use ::service::ids::{ClinicId, UserId, to_uuid};
use ::service::seed::CLINICS;

use crate::support::account_api::{
    accepted_from, api_request, fresh_email, recovery_codes, timestamp,
};
use crate::support::{
    LOOPBACK, LogCapture, PASSWORD, TestApp, TestDb, TestUser, mfa_request, offline_app, reply_of,
};

/// How long an invitation stays good.
const INVITATION_LIFETIME: Duration = Duration::hours(72);
/// How long a password-reset token stays good.
const RESET_LIFETIME: Duration = Duration::hours(1);
/// How long the enrolling session of an accepted invitation lasts.
const ENROLLING_LIFETIME: Duration = Duration::minutes(15);
/// How recent a session's second factor must be for it to renew the recovery codes.
const REAUTHENTICATION_WINDOW: Duration = Duration::minutes(5);

/// Passwords every rule takes, other than [`PASSWORD`], for changes and resets.
const NEW_PASSWORD: &str = "synthetic lantern over quiet meadows";
const THIRD_PASSWORD: &str = "synthetic harbour of folded paper boats";

/// The routes of the accounts API.
const ACCOUNT_ROUTES: [(&str, &str); 12] = [
    ("GET", "/users"),
    ("POST", "/users/invitations"),
    ("PATCH", "/users/{id}"),
    ("POST", "/users/{id}/password-reset"),
    ("DELETE", "/users/{id}/sessions"),
    ("POST", "/invitations/accept"),
    ("POST", "/auth/mfa/enroll"),
    ("POST", "/password-reset/complete"),
    ("POST", "/me/password"),
    ("POST", "/me/mfa/recovery-codes"),
    ("GET", "/me/sessions"),
    ("DELETE", "/me/sessions/{id}"),
];

/// Those of [`ACCOUNT_ROUTES`] that take a JSON body.
const ROUTES_WITH_BODIES: [(&str, &str); 6] = [
    ("POST", "/users/invitations"),
    ("PATCH", "/users/{id}"),
    ("POST", "/invitations/accept"),
    ("POST", "/auth/mfa/enroll"),
    ("POST", "/password-reset/complete"),
    ("POST", "/me/password"),
];

fn unauthorized() -> Value {
    json!({ "error": "unauthorized" })
}

fn forbidden() -> Value {
    json!({ "error": "forbidden" })
}

fn not_found() -> Value {
    json!({ "error": "not_found" })
}

fn last_admin() -> Value {
    json!({ "error": "the clinic's last admin can be neither demoted nor disabled" })
}

/// Whether the database holds a single clinic (`tenancy = single`): the tests that cross
/// between clinics have nothing to cross then.
fn one_clinic_only() -> bool {
    CLINICS.len() < 2
}

/// A six-digit code that is not `user`'s now.
fn wrong_code(app: &TestApp, user: &TestUser) -> String {
    let code = totp::code_at(user.totp_secret.as_deref().unwrap(), app.clock.now());
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

/// What an admin may do to the account `id`, each in its own request.
fn admin_steps(id: impl std::fmt::Display) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({ "role": "admin" })),
        ),
        (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({ "disabled": true })),
        ),
        (Method::POST, format!("/users/{id}/password-reset"), None),
        (Method::DELETE, format!("/users/{id}/sessions"), None),
    ]
}

/// The entry of account `id` in an account list.
fn entry(users: &[Value], id: UserId) -> Option<&Value> {
    users
        .iter()
        .find(|user| user["id"] == json!(id.to_string()))
}

/// How many events of `action` by `actor` the trail holds.
async fn count_events(app: &TestApp, action: &str, actor: Option<UserId>) -> usize {
    let actor = actor.map(|id| id.to_string());
    app.audit_rows()
        .await
        .iter()
        .filter(|row| row.action == action && (actor.is_none() || row.actor == actor))
        .count()
}

/// The enabled admins of the database, as a superuser sees them.
async fn enabled_admins(app: &TestApp) -> Vec<String> {
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query_scalar(
        "SELECT id::text FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
}

/// How many accounts have `email`, as a superuser sees them.
async fn accounts_with_email(app: &TestApp, email: &str) -> i64 {
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&mut admin)
        .await
        .unwrap()
}

/// Lets `by` pass on the clock in steps short enough for the sessions of `tokens` to stay
/// alive, each used at every step (the idle timeout may be as short as a minute).
async fn pass_time_in_use(app: &TestApp, tokens: &[&str], by: Duration) {
    let step = Duration::seconds(30);
    let mut passed = Duration::zero();
    while passed < by {
        let next = step.min(by - passed);
        app.clock.advance(next);
        passed += next;
        for token in tokens {
            assert!(app.opens(token).await, "the session stays alive in use");
        }
    }
}
