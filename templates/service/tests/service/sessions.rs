//! Sessions end on the server: timeouts, logout, disabled accounts (NIST SP 800-63B;
//! HIPAA 164.312(a)(2)(iii) automatic logoff). Time moves on the injected clock.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use sha2::{Digest, Sha256};

use ::service::accounts;
use ::service::auth::Role;

use crate::support::TestApp;

async fn signed_in_clinician(app: &TestApp) -> String {
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    app.sign_in(&user).await
}

#[tokio::test]
async fn idle_session_ends_on_the_server() {
    let app = TestApp::new().await;
    let token = signed_in_clinician(&app).await;
    let idle = app.state.sessions.idle;

    // Activity keeps it alive past the idle limit...
    app.clock.advance(idle - Duration::seconds(1));
    assert_eq!(
        app.call(Method::GET, "/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    app.clock.advance(idle - Duration::seconds(1));
    assert_eq!(
        app.call(Method::GET, "/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );

    // ...silence for the idle limit ends it, and the row is gone.
    app.clock.advance(idle);
    let reply = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count_as_admin("sessions").await, 0);
}

#[tokio::test]
async fn absolute_timeout_ends_an_active_session() {
    let app = TestApp::new().await;
    let token = signed_in_clinician(&app).await;
    let (idle, absolute) = (app.state.sessions.idle, app.state.sessions.absolute);

    let mut elapsed = Duration::zero();
    let step = idle / 2;
    while elapsed + step < absolute - Duration::minutes(1) {
        app.clock.advance(step);
        elapsed += step;
        let reply = app.call(Method::GET, "/me", Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "active after {elapsed}");
    }
    app.clock.advance(absolute - elapsed);
    let reply = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = TestApp::new().await;
    let token = signed_in_clinician(&app).await;
    assert_eq!(app.count_as_admin("sessions").await, 1);

    let reply = app
        .call(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(app.count_as_admin("sessions").await, 0);
    // A copy of the token kept by an attacker opens nothing.
    let reply = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = app
        .call(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    let first = app.sign_in(&user).await;
    let second = app.sign_in(&user).await;
    let colleague = app.user(clinic, Role::Staff).await;
    let colleague_token = app.sign_in(&colleague).await;

    accounts::disable(&app.pool, &*app.state.clock, &user.email)
        .await
        .unwrap();

    for token in [&first, &second] {
        let reply = app.call(Method::GET, "/patients", Some(token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.count_as_admin("sessions").await,
        1,
        "only the colleague's is left"
    );
    let reply = app
        .call(Method::GET, "/me", Some(&colleague_token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn database_stores_only_the_hash_of_a_token() {
    let app = TestApp::new().await;
    let token = signed_in_clinician(&app).await;

    let mut admin = crate::support::TestDb::connect(&app.db.admin).await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(token.as_bytes()).to_vec());
    assert_eq!(token.len(), 64, "256 bits, hex");
}

#[tokio::test]
async fn forged_or_garbled_tokens_open_nothing() {
    let app = TestApp::new().await;
    let _ = signed_in_clinician(&app).await;
    for token in ["0".repeat(64), "not-a-token".to_owned(), String::new()] {
        let reply = app.call(Method::GET, "/me", Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
    }
}
