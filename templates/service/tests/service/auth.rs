//! Login, TOTP and throttling (SPEC 4.2.1).

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use serde_json::json;

use ::service::accounts::{self, AccountError, ClinicChoice, NewUser};
use ::service::auth::password::{Password, PasswordRejected};
use ::service::auth::roles::MFA_FOR_EVERY_ROLE;
use ::service::auth::throttle::{FREE_FAILURES, MAX_LOCK};
use ::service::auth::{Role, totp};
use ::service::clock::Clock;
use ::service::db;
use ::service::models::user;

use crate::support::{LOOPBACK, TestApp, TestDb};

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;

    let wrong_password = app
        .log_in(&user.email, "not the synthetic password", LOOPBACK)
        .await;
    let unknown_email = app
        .log_in(
            "nobody@test.example.org",
            "not the synthetic password",
            LOOPBACK,
        )
        .await;

    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status, wrong_password.status);
    assert_eq!(unknown_email.body, wrong_password.body);
    assert_eq!(wrong_password.body, json!({ "error": "unauthorized" }));
    assert!(!wrong_password.headers.contains_key(header::SET_COOKIE));
    assert!(!unknown_email.headers.contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn disabled_account_cannot_sign_in_and_looks_unknown() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    accounts::disable(&app.pool, &user.email).await.unwrap();

    let reply = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({ "error": "unauthorized" }));
}

#[tokio::test]
async fn password_alone_opens_no_phi_route_for_clinical_roles() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    for role in [Role::Admin, Role::Clinician, Role::Staff] {
        let user = app.user(clinic, role).await;
        let login = app.log_in(&user.email, &user.password, LOOPBACK).await;
        assert_eq!(login.status, StatusCode::OK);
        assert_eq!(login.body["mfa_required"], json!(true), "{role}");
        let pending = login.body["token"].as_str().unwrap();

        for uri in ["/patients", "/me"] {
            let reply = app.call(Method::GET, uri, Some(pending), None).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{role} {uri}");
            assert_eq!(reply.body, json!({ "error": "mfa_required" }));
        }
    }
}

#[tokio::test]
async fn auditor_needs_totp_exactly_when_the_mfa_answer_says_so() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let auditor = app.user(clinic, Role::Auditor).await;
    assert_eq!(auditor.totp_secret.is_some(), MFA_FOR_EVERY_ROLE);

    let login = app
        .log_in(&auditor.email, &auditor.password, LOOPBACK)
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["mfa_required"], json!(MFA_FOR_EVERY_ROLE));
}

#[tokio::test]
async fn login_and_mfa_each_issue_a_new_token() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;

    let pending = app.pending(&user).await;
    let code = app.totp_code(&user);
    let mfa = app.mfa(&pending, &code).await;
    assert_eq!(mfa.status, StatusCode::OK);
    let session = mfa.body["token"].as_str().unwrap().to_owned();
    assert_ne!(session, pending);

    // The pending token is spent: it opens nothing, not even a second MFA attempt.
    let again = app.call(Method::GET, "/me", Some(&pending), None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let me = app.call(Method::GET, "/me", Some(&session), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], json!(user.email));
    assert_eq!(me.body["role"], json!("clinician"));

    // A second login gets yet another token.
    assert_ne!(app.sign_in(&user).await, session);
}

#[tokio::test]
async fn wrong_or_replayed_totp_codes_are_refused() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let secret = user.totp_secret.clone().unwrap();

    let pending = app.pending(&user).await;
    let code = totp::code_at(&secret, app.clock.now());
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let reply = app.mfa(&pending, &wrong).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let reply = app.mfa(&pending, &code).await;
    assert_eq!(reply.status, StatusCode::OK);

    // The same code, within its time step, for a new login: refused.
    let pending = app.pending(&user).await;
    let replay = app.mfa(&pending, &code).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn guessing_totp_codes_ends_the_pending_session() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let pending = app.pending(&user).await;

    for _ in 0..5 {
        let reply = app.mfa(&pending, "000000").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right code is too late now: the password has to be given again.
    let code = app.totp_code(&user);
    let reply = app.mfa(&pending, &code).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_from_that_address() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    let attacker: IpAddr = "127.0.0.66".parse().unwrap();

    for _ in 0..FREE_FAILURES {
        let reply = app
            .log_in(&user.email, "a wrong synthetic guess", attacker)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, before it is checked.
    let reply = app.log_in(&user.email, &user.password, attacker).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.body, json!({ "error": "too_many_attempts" }));
    assert!(reply.headers.contains_key(header::RETRY_AFTER));

    // Unknown accounts are throttled the same way, so the answer reveals nothing.
    for _ in 0..FREE_FAILURES {
        app.log_in(
            "nobody@test.example.org",
            "a wrong synthetic guess",
            attacker,
        )
        .await;
    }
    let reply = app
        .log_in(
            "nobody@test.example.org",
            "a wrong synthetic guess",
            attacker,
        )
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn lockout_spares_the_owners_address_and_ends_by_itself() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    let attacker: IpAddr = "127.0.0.66".parse().unwrap();

    // Far more failures than needed for the longest lock.
    for _ in 0..(FREE_FAILURES + 12) {
        app.clock.advance(Duration::minutes(16));
        app.log_in(&user.email, "a wrong synthetic guess", attacker)
            .await;
    }
    // The owner, from their own address, signs in meanwhile.
    let reply = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(reply.status, StatusCode::OK);

    // From the attacker's address the lock is capped, and then it is over.
    let reply = app.log_in(&user.email, &user.password, attacker).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(MAX_LOCK);
    let reply = app.log_in(&user.email, &user.password, attacker).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn weak_common_and_short_passwords_are_refused() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    for (password, why) in [
        ("short", PasswordRejected::TooShort),
        ("password1234", PasswordRejected::Common),
        ("Qwerty123456", PasswordRejected::Common),
    ] {
        let result = accounts::create(
            &app.pool,
            &app.state.hasher,
            NewUser {
                email: "new@test.example.org".into(),
                role: Role::Staff,
                clinic: ClinicChoice::Existing(clinic),
                password: Password::new(password),
            },
        )
        .await;
        assert!(
            matches!(result, Err(AccountError::Password(rejected)) if rejected == why),
            "{password}"
        );
    }
}

#[tokio::test]
async fn password_hash_is_argon2id_and_upgraded_at_login() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Auditor).await;

    let stored = |app: &TestApp| {
        let pool = app.pool.clone();
        let id = user.id;
        async move {
            let mut tx = db::begin_scoped(&pool, clinic, None).await.unwrap();
            user::get(&mut tx, id).await.unwrap().unwrap().password_hash
        }
    };
    assert!(
        stored(&app)
            .await
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    // An old hash, made with weaker parameters, is replaced at the next login.
    {
        let mut tx = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
        user::set_password_hash(&mut tx, user.id, &argon2_weak_hash(&user.password))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert!(
        stored(&app)
            .await
            .starts_with("$argon2id$v=19$m=8192,t=1,p=1$")
    );
    app.sign_in(&user).await;
    assert!(
        stored(&app)
            .await
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
}

fn argon2_weak_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher as _;
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(password.as_bytes())
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn there_are_no_default_accounts() {
    let db = TestDb::new().await;
    let mut admin = TestDb::connect(&db.admin).await;
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(accounts, 0);
}

#[tokio::test]
async fn browser_session_is_a_host_only_http_only_strict_cookie() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;

    let login = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "email": user.email, "password": user.password }).to_string(),
        ))
        .unwrap();
    let reply = app.send(login).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.get("token").is_none(),
        "no token in the body for browsers"
    );
    let cookie = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "__Host-session=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();

    let code = app.totp_code(&user);
    let mfa = Request::post("/auth/mfa")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &pair)
        .body(Body::from(json!({ "code": code }).to_string()))
        .unwrap();
    let reply = app.send(mfa).await;
    assert_eq!(reply.status, StatusCode::OK);
    let session = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let session = session.split(';').next().unwrap().to_owned();
    assert_ne!(session, pair, "a new token after MFA");

    let me = Request::get("/me")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(me).await.status, StatusCode::OK);
}
