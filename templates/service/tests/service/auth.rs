//! Login, TOTP and throttling (NIST SP 800-63B).

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use serde_json::json;

use ::service::accounts::{self, AccountError, ClinicChoice, NewUser};
use ::service::auth::password::{Password, PasswordRejected};
use ::service::auth::rate_limit;
use ::service::auth::store::user;
use ::service::auth::throttle::{
    ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_FAILURES, ACCOUNT_MAX_LOCK, FREE_FAILURES, MAX_LOCK,
};
use ::service::auth::{Role, totp};
use ::service::clock::Clock;
use ::service::db;
use ::service::ids::ClinicId;

use crate::support::{LOOPBACK, TestApp, TestDb, TestUser, login_request, mfa_request, reply_of};

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
    accounts::disable(&app.pool, &*app.state.clock, &user.email)
        .await
        .unwrap();

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

/// Auditors read break-glass reasons, which are PHI: their password alone opens nothing,
/// whatever the `mfa` answer (HIPAA 164.312(d)).
#[tokio::test]
async fn an_auditors_password_alone_opens_no_phi() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let auditor = app.user(clinic, Role::Auditor).await;
    assert!(
        auditor.totp_secret.is_some(),
        "auditors are enrolled in TOTP"
    );

    let login = app
        .log_in(&auditor.email, &auditor.password, LOOPBACK)
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["mfa_required"], json!(true));
    let pending = login.body["token"].as_str().unwrap();
    for uri in ["/emergency-access", "/audit"] {
        let reply = app.call(Method::GET, uri, Some(pending), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let token = app.sign_in(&auditor).await;
    let reply = app
        .call(Method::GET, "/emergency-access", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
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

    // From five networks, so that no network's own lock answers first.
    for n in 0..5 {
        let source = IpAddr::from([10, 9, 0, n]);
        let reply = app.mfa_from(&pending, "000000", source).await;
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

    // The owner has signed in from their own network before.
    app.sign_in(&user).await;

    // Far more failures than needed for the longest locks.
    for _ in 0..(FREE_FAILURES + 12) {
        app.clock.advance(Duration::minutes(16));
        app.log_in(&user.email, "a wrong synthetic guess", attacker)
            .await;
    }
    // The owner, from their own network, signs in meanwhile.
    let reply = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(reply.status, StatusCode::OK);

    // From the attacker's network the locks are capped, and then they are over: first
    // the network's own, then the account-wide one (answered like a wrong password).
    let reply = app.log_in(&user.email, &user.password, attacker).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(MAX_LOCK);
    let reply = app.log_in(&user.email, &user.password, attacker).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(ACCOUNT_MAX_LOCK);
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
        let result = create_staff(&app, clinic, "new@test.example.org", password).await;
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

/// A wrong code distinct from the right one now.
fn wrong_code(app: &TestApp, user: &TestUser) -> String {
    let code = totp::code_at(user.totp_secret.as_deref().unwrap(), app.clock.now());
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

/// "Log in, try a few codes, log in again" never gets more guesses than the limits
/// allow: wrong second factors count per account and network, and per account across
/// every network, in the database; a correct password clears nothing (NIST SP 800-63B
/// §5.2.2).
#[tokio::test]
async fn totp_brute_force_across_pending_sessions_is_stopped() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;

    // From one network: stopped within the network's free attempts.
    let user = app.user(clinic, Role::Clinician).await;
    let mut guesses = 0;
    'rounds: for _ in 0..10 {
        let login = app.log_in(&user.email, &user.password, LOOPBACK).await;
        if login.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        let pending = login.body["token"].as_str().unwrap().to_owned();
        for _ in 0..3 {
            let reply = app.mfa(&pending, &wrong_code(&app, &user)).await;
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                break 'rounds;
            }
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            guesses += 1;
        }
    }
    assert!(guesses < FREE_FAILURES, "{guesses} codes checked");
    let login = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(login.status, StatusCode::TOO_MANY_REQUESTS);

    // From a new network for every pending session (a botnet): stopped by the account's
    // own count, and then even the right code from anywhere new is refused.
    let user = app.user(clinic, Role::Clinician).await;
    let mut guesses = 0;
    let mut stopped = false;
    for n in 0..(2 * ACCOUNT_FREE_FAILURES) {
        let source = IpAddr::from([10, 1, 0, u8::try_from(n).unwrap()]);
        let login = app.log_in(&user.email, &user.password, source).await;
        if login.status == StatusCode::UNAUTHORIZED {
            stopped = true;
            break;
        }
        let pending = login.body["token"].as_str().unwrap().to_owned();
        let reply = app
            .mfa_from(&pending, &wrong_code(&app, &user), source)
            .await;
        if reply.status != StatusCode::UNAUTHORIZED {
            panic!("{:?}", reply.status);
        }
        guesses += 1;
    }
    assert!(stopped, "the account was never locked");
    assert!(
        guesses <= ACCOUNT_FREE_FAILURES / 2,
        "{guesses} codes checked"
    );
    let fresh = IpAddr::from([10, 2, 0, 1]);
    let login = app.log_in(&user.email, &user.password, fresh).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
}

/// Two submissions of one code at once: one session, never two (RFC 6238 §5.2).
#[tokio::test]
async fn one_totp_code_submitted_concurrently_opens_one_session() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;

    // Several pending sessions, from networks of their own, and one pending session
    // submitting twice.
    let mut pendings = Vec::new();
    for n in 0..3 {
        let source = IpAddr::from([10, 3, 0, n]);
        let login = app.log_in(&user.email, &user.password, source).await;
        let token = login.body["token"].as_str().unwrap().to_owned();
        pendings.push((token, source));
    }
    pendings.push(pendings[0].clone());
    let code = app.totp_code(&user);
    let replies = app
        .send_all(
            pendings
                .iter()
                .map(|(pending, source)| mfa_request(pending, &code, *source))
                .collect(),
        )
        .await;
    let opened = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::OK)
        .count();
    assert_eq!(
        opened,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

/// A botnet guessing one account's password from many networks is stopped by the
/// account's own count; the owner, on their usual network, still signs in; at the ceiling
/// the account is suspended everywhere until `unlock-user` (NIST SP 800-63B §5.2.2).
#[tokio::test]
async fn password_guessing_is_limited_per_account_across_every_address() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    app.sign_in(&user).await;

    let mut checked = 0;
    for n in 0..(2 * ACCOUNT_FREE_FAILURES) {
        let source = IpAddr::from([10, 4, 0, u8::try_from(n).unwrap()]);
        let reply = app
            .log_in(&user.email, "a wrong synthetic guess", source)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        checked += 1;
    }
    // Locked for every other network, even with the right password...
    let fresh = IpAddr::from([10, 5, 0, 1]);
    let reply = app.log_in(&user.email, &user.password, fresh).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // ...but not for the owner's own.
    let reply = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(reply.status, StatusCode::OK, "after {checked} guesses");

    // At the ceiling: suspended everywhere, the owner's network included.
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query("UPDATE users SET failed_sign_ins = $2 WHERE email = $1")
        .bind(&user.email)
        .bind(ACCOUNT_MAX_FAILURES - 1)
        .execute(&mut admin)
        .await
        .unwrap();
    app.clock.advance(ACCOUNT_MAX_LOCK * 2);
    let reply = app.log_in(&user.email, "one more wrong guess", fresh).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(ACCOUNT_MAX_LOCK * 2);
    let reply = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "suspended");

    // An administrator lets the owner back in, on the record.
    accounts::unlock(&app.pool, &*app.state.clock, &user.email)
        .await
        .unwrap();
    app.sign_in(&user).await;
}

/// A parallel burst from one network cannot slip past the count: every attempt is
/// counted before its password is checked, under a row lock.
#[tokio::test]
async fn parallel_password_guesses_cannot_slip_past_the_throttle() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    let attacker: IpAddr = "127.0.0.77".parse().unwrap();
    let replies = app
        .send_all(
            (0..12)
                .map(|_| login_request(&user.email, "a wrong synthetic guess", attacker))
                .collect(),
        )
        .await;
    let checked = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, usize::try_from(FREE_FAILURES).unwrap());
    assert!(
        replies
            .iter()
            .all(|reply| reply.status == StatusCode::UNAUTHORIZED
                || reply.status == StatusCode::TOO_MANY_REQUESTS)
    );
}

/// The limits live in PostgreSQL: a second instance of the service, or a restarted one,
/// enforces the same count (OWASP ASVS V2.2.1).
#[tokio::test]
async fn two_instances_on_one_database_enforce_one_limit() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Staff).await;
    let attacker: IpAddr = "127.0.0.88".parse().unwrap();
    let other = app.another_instance().await;
    // The sign-in throttle: failures on one instance lock the pair on the other.
    for n in 0..FREE_FAILURES {
        let router = if n % 2 == 0 { &app.router } else { &other };
        let request = login_request(&user.email, "a wrong synthetic guess", attacker);
        let reply = reply_of(router.clone(), request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let request = login_request(&user.email, &user.password, attacker);
    let reply = reply_of(other.clone(), request).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);

    // The rate limit: calls on both instances share one window, and a restarted
    // instance still knows it.
    let spray: IpAddr = "127.0.0.99".parse().unwrap();
    for n in 0..rate_limit::MAX_REQUESTS {
        let router = if n % 2 == 0 { &app.router } else { &other };
        let email = format!("sprayed-{n}@test.example.org");
        let reply = reply_of(router.clone(), login_request(&email, "a guess", spray)).await;
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS, "call {n}");
    }
    let restarted = app.another_instance().await;
    let request = login_request("sprayed@test.example.org", "a guess", spray);
    let reply = reply_of(restarted, request).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

/// One subscriber's IPv6 /64 is one network: its addresses share one rate limit.
#[tokio::test]
async fn the_addresses_of_one_ipv6_64_share_one_limit() {
    let app = TestApp::new().await;
    for n in 0..rate_limit::MAX_REQUESTS {
        let source = IpAddr::from([0x2001, 0xdb8, 7, 7, 0, 0, 0, u16::try_from(n).unwrap()]);
        let email = format!("nobody-{n}@test.example.org");
        let reply = app.log_in(&email, "a guess of sorts", source).await;
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS, "call {n}");
    }
    let same_64 = IpAddr::from([0x2001, 0xdb8, 7, 7, 0xffff, 1, 2, 3]);
    let reply = app
        .log_in("nobody@test.example.org", "a guess of sorts", same_64)
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let next_64 = IpAddr::from([0x2001, 0xdb8, 7, 8, 0, 0, 0, 1]);
    let reply = app
        .log_in("nobody@test.example.org", "a guess of sorts", next_64)
        .await;
    assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A password built from the account's email, its local part, the clinic's or the
/// service's name is refused wherever one is set (NIST SP 800-63B 5.1.1.2).
#[tokio::test]
async fn a_password_made_of_the_accounts_own_context_is_refused() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Lakeside Synthetic Clinic").await;
    let email = "maria.synthetic@test.example.org";
    let mut built = vec![
        email.to_owned(),
        "maria.synthetic!2024".to_owned(),
        "lakesidesyntheticclinic".to_owned(),
    ];
    // A service name of fewer than four letters is refused only as the whole password,
    // which no name that short can be.
    let service = env!("CARGO_PKG_NAME");
    if service.chars().filter(|c| c.is_alphanumeric()).count() >= 4 {
        built.push(format!("{service} is my service"));
    }
    for password in built {
        let result = create_staff(&app, clinic, email, &password).await;
        assert!(
            matches!(
                result,
                Err(AccountError::Password(PasswordRejected::ContextSpecific))
            ),
            "{password}"
        );
    }
}

/// A superuser's copy of the database holds no TOTP secret in any encoding: raw, hex,
/// base32 or base64 (HIPAA 164.312(a)(2)(iv)).
#[tokio::test]
async fn a_database_dump_holds_no_totp_secret() {
    use base64::Engine as _;
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let users = [
        app.user(clinic, Role::Clinician).await,
        app.user(clinic, Role::Auditor).await,
    ];
    for user in &users {
        app.sign_in(user).await;
    }
    let dump = dump_as_superuser(&app).await;
    for user in &users {
        let secret = user.totp_secret.as_deref().unwrap();
        let hex: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
        for encoding in [
            hex,
            totp::secret_base32(secret),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ] {
            assert!(!dump.contains(&encoding), "{} in the dump", user.email);
        }
    }
}

/// Every row of every table in the public schema, as text, read by a superuser.
async fn dump_as_superuser(app: &TestApp) -> String {
    let mut admin = TestDb::connect(&app.db.admin).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let mut dump = String::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT t::text FROM {table} t"
        )))
        .fetch_all(&mut admin)
        .await
        .unwrap();
        dump.push_str(&rows.join("\n"));
    }
    dump
}

/// A secret stored in plaintext before secrets were sealed is sealed at the account's
/// next completed sign-in, and the plaintext column cleared.
#[tokio::test]
async fn a_plaintext_totp_secret_is_sealed_at_the_next_sign_in() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let mut admin = TestDb::connect(&app.db.admin).await;
    sqlx::query("UPDATE users SET totp_secret = $2, totp_secret_sealed = NULL WHERE email = $1")
        .bind(&user.email)
        .bind(user.totp_secret.as_deref().unwrap())
        .execute(&mut admin)
        .await
        .unwrap();

    app.sign_in(&user).await;
    let (plain, sealed): (Option<Vec<u8>>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT totp_secret, totp_secret_sealed FROM users WHERE email = $1")
            .bind(&user.email)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(plain, None);
    assert!(sealed.is_some_and(|sealed| {
        !sealed
            .windows(user.totp_secret.as_ref().unwrap().len())
            .any(|window| window == user.totp_secret.as_deref().unwrap())
    }));
    // And it still works.
    app.sign_in(&user).await;
}

/// A staff account for `email` with `password`, made the way `create-user` makes it.
async fn create_staff(
    app: &TestApp,
    clinic: ClinicId,
    email: &str,
    password: &str,
) -> Result<accounts::CreatedUser, AccountError> {
    accounts::create(
        &app.pool,
        &app.state.hasher,
        &app.state.keyring,
        &*app.state.clock,
        NewUser {
            email: email.into(),
            role: Role::Staff,
            clinic: ClinicChoice::Existing(clinic),
            password: Password::new(password),
        },
    )
    .await
}
