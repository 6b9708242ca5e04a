//! The accounts API: invitations and TOTP enrollment, role and state changes, password
//! changes and resets, recovery codes, and the sessions an account sees and ends (HIPAA
//! 164.308(a)(3)(ii)(C) termination procedures, 164.308(a)(4)(ii)(B)-(C) access
//! authorization, establishment and modification; NIST SP 800-63B; OWASP ASVS V2, V3).
//! Time moves on the injected clock.

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
use ::service::models::ids::{ClinicId, UserId, to_uuid};
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

// Invitations and enrollment.

/// An invitation gives its holder a password and a TOTP enrollment, and nothing else: the
/// session that accepts it opens no route but the enrollment's confirmation (not even
/// `/auth/mfa`), the confirmation starts a new, complete session, and the TOTP secret and
/// recovery codes are shown once (NIST SP 800-63B §6.1.2.1 authenticator binding;
/// HIPAA 164.308(a)(4)(ii)(C)).
#[tokio::test]
async fn an_invitation_opens_nothing_until_its_totp_enrollment_is_confirmed() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let invitation = app.invitation(&admin, Role::Clinician).await;
    let accepted = app.accepted(&invitation, clinic).await;
    let user = accepted.user.clone();
    assert_eq!(user.email, invitation.email);
    assert!(
        accepted.totp_uri.starts_with("otpauth://totp/"),
        "{}",
        accepted.totp_uri
    );

    let listed = app.listed_users(&admin).await;
    let account = entry(&listed, user.id).expect("the new account is listed");
    let fields: BTreeSet<&str> = account
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "id",
        "email",
        "role",
        "disabled",
        "mfa_enrolled",
        "last_login_at",
        "created_at",
    ]
    .into();
    assert_eq!(fields, expected, "no credential in the list");
    assert_eq!(account["role"], json!("clinician"));
    assert_eq!(account["mfa_enrolled"], json!(false));

    // The enrolling session opens no route...
    let enrolling = accepted.enrolling.clone();
    for uri in ["/me", "/patients", "/me/sessions", "/users"] {
        let reply = app.call(Method::GET, uri, Some(&enrolling), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(reply.body, json!({ "error": "mfa_required" }), "{uri}");
    }
    // ...and does not pass for a password-only session that owes its code.
    let code = app.totp_code(&user);
    let reply = app.mfa(&enrolling, &code).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // A wrong code confirms nothing; the right one does.
    let reply = app.enroll(&enrolling, &wrong_code(&app, &user)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let code = app.totp_code(&user);
    let enrolled = app.enroll(&enrolling, &code).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{:?}", enrolled.body);
    let codes = recovery_codes(&enrolled.body);
    assert_eq!(codes.len(), 10);
    assert_eq!(codes.iter().collect::<BTreeSet<_>>().len(), 10, "{codes:?}");
    let session = enrolled.body["token"].as_str().unwrap().to_owned();
    assert_ne!(session, enrolling);

    // The enrolling session is over; the new one is complete.
    assert!(!app.opens(&enrolling).await);
    let me = app.call(Method::GET, "/me", Some(&session), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], json!(user.email));
    assert_eq!(me.body["role"], json!("clinician"));
    let patients = app
        .call(Method::GET, "/patients", Some(&session), None)
        .await;
    assert_eq!(patients.status, StatusCode::OK);
    // A complete session cannot enroll a second factor of its choosing.
    let code = app.totp_code(&user);
    let reply = app.enroll(&session, &code).await;
    assert_ne!(reply.status, StatusCode::OK);
    assert!(reply.body.get("recovery_codes").is_none());

    // The secret and the codes were shown once: the list holds neither.
    let listed = app.listed_users(&admin).await;
    assert_eq!(
        entry(&listed, user.id).unwrap()["mfa_enrolled"],
        json!(true)
    );
    let text = Value::Array(listed).to_string();
    assert!(!text.contains(&accepted.totp_secret));
    assert!(codes.iter().all(|code| !text.contains(code.as_str())));

    // And the account signs in like any other: password, then its TOTP code.
    app.sign_in(&user).await;
}

/// An invitation token makes one account, once: used again, or twice at the same moment,
/// it is refused like a token that never existed (OWASP ASVS 2.3.1; NIST SP 800-63B
/// §5.1.2.2).
#[tokio::test]
async fn an_invitation_token_works_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;

    let invitation = app.invitation(&admin, Role::Staff).await;
    let first = app.accept(&invitation.token, PASSWORD).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let again = app.accept(&invitation.token, NEW_PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.body, unauthorized());
    assert!(again.body.get("totp_secret").is_none());
    assert_eq!(accounts_with_email(&app, &invitation.email).await, 1);

    // Two accepts of one token at once: one account, and the other is refused.
    let invitation = app.invitation(&admin, Role::Staff).await;
    let accept = |password: &str| {
        api_request(
            Method::POST,
            "/invitations/accept",
            None,
            Some(json!({ "token": invitation.token, "password": password })),
            LOOPBACK,
        )
    };
    let replies = app
        .send_all(vec![accept(PASSWORD), accept(NEW_PASSWORD)])
        .await;
    let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert_eq!(accounts_with_email(&app, &invitation.email).await, 1);

    // A token of the right shape that was never issued: the same answer.
    let forged = app.accept(&"0".repeat(96), PASSWORD).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.body, unauthorized());
}

/// An invitation not taken up within 72 hours is void: a token found later in an old
/// mailbox opens nothing (OWASP ASVS 2.3.1: activation codes expire after a short time).
#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let issued = app.clock.now();
    let early = app.invitation(&admin, Role::Staff).await;
    let late = app.invitation(&admin, Role::Staff).await;
    for invitation in [&early, &late] {
        let off = invitation.expires_at - (issued + INVITATION_LIFETIME);
        assert!(off.num_seconds().abs() <= 1, "{}", invitation.expires_at);
    }

    app.clock
        .advance(INVITATION_LIFETIME - Duration::minutes(1));
    let reply = app.accept(&early.token, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);

    app.clock.advance(Duration::minutes(2));
    let reply = app.accept(&late.token, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, unauthorized());
    assert_eq!(accounts_with_email(&app, &late.email).await, 0);
}

/// An invitation makes its account in the clinic that issued it, whatever the request
/// accepting it carries: a clinic named in the body is refused, another clinic's session
/// changes nothing, and that clinic's admin neither sees nor reaches the account (HIPAA
/// 164.308(a)(4)(ii)(B), 164.312(a)(1); OWASP ASVS 4.2.1).
#[tokio::test]
async fn an_invitation_lands_in_its_own_clinic_whoever_accepts_it() {
    if one_clinic_only() {
        return;
    }
    let app = TestApp::new().await;
    let home = app.clinic("Synthetic Clinic A").await;
    let other = app.clinic("Synthetic Clinic B").await;
    let (_, home_admin) = app.admin(home).await;
    let (_, other_admin) = app.admin(other).await;
    let invitation = app.invitation(&home_admin, Role::Clinician).await;

    let named = app
        .api(
            Method::POST,
            "/invitations/accept",
            None,
            Some(json!({
                "token": invitation.token,
                "password": PASSWORD,
                "clinic_id": other.to_string(),
            })),
        )
        .await;
    assert_eq!(named.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Accepted by a client signed in to the other clinic.
    let reply = app
        .api(
            Method::POST,
            "/invitations/accept",
            Some(&other_admin),
            Some(json!({ "token": invitation.token, "password": PASSWORD })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let accepted = accepted_from(&reply, Role::Clinician, home, PASSWORD);
    let code = app.totp_code(&accepted.user);
    let enrolled = app.enroll(&accepted.enrolling, &code).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{:?}", enrolled.body);
    let token = enrolled.body["token"].as_str().unwrap().to_owned();

    // The account is the home clinic's, in the database and to itself...
    let mut admin = TestDb::connect(&app.db.admin).await;
    let stored: uuid::Uuid = sqlx::query_scalar("SELECT clinic_id FROM users WHERE id = $1")
        .bind(to_uuid(accepted.user.id))
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(stored, to_uuid(home));
    let me = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(me.body["clinic_id"], json!(home.to_string()));
    let rows = app.audit_rows().await;
    let accepts: Vec<&String> = rows
        .iter()
        .filter(|row| row.action == "accept_invitation")
        .map(|row| &row.clinic)
        .collect();
    assert_eq!(accepts, [&home.to_string()], "on the home clinic's trail");

    // ...its admins list it; the other clinic's admin neither sees nor reaches it.
    assert!(entry(&app.listed_users(&home_admin).await, accepted.user.id).is_some());
    let others = app.listed_users(&other_admin).await;
    assert!(entry(&others, accepted.user.id).is_none());
    assert!(
        others
            .iter()
            .all(|user| user["email"] != json!(invitation.email))
    );
    for (method, uri, body) in admin_steps(accepted.user.id) {
        let reply = app
            .call(method.clone(), &uri, Some(&other_admin), body)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(reply.body, not_found());
    }
    assert!(app.opens(&token).await);
    let me = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(me.body["role"], json!("clinician"));
}

/// Only a clinic's admin brings people in: other roles, a password-only admin session and
/// no session at all are refused, each refusal on the record, and no token is made (HIPAA
/// 164.308(a)(4)(ii)(B); OWASP ASVS 4.1.3 least privilege).
#[tokio::test]
async fn only_admins_invite() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let body = json!({ "email": fresh_email("invitee"), "role": "admin" });

    let mut refused = Vec::new();
    for role in [Role::Clinician, Role::Staff, Role::Auditor] {
        let user = app.user(clinic, role).await;
        let token = app.sign_in(&user).await;
        let reply = app
            .call(
                Method::POST,
                "/users/invitations",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(reply.body, forbidden(), "{role}");
        refused.push(user.id);
    }
    let admin = app.user(clinic, Role::Admin).await;
    let pending = app.pending(&admin).await;
    let reply = app
        .call(
            Method::POST,
            "/users/invitations",
            Some(&pending),
            Some(body.clone()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({ "error": "mfa_required" }));
    let reply = app
        .call(Method::POST, "/users/invitations", None, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    assert_eq!(app.count_as_admin("account_tokens").await, 0);
    for id in refused {
        assert_eq!(count_events(&app, "denied", Some(id)).await, 1, "{id}");
    }
}

/// Whether an address has an account is told to nobody but the clinic's own admins: a
/// non-admin is refused before anything is looked up, with one answer whatever the
/// address or the body; an address taken since its invitation, or taken in another
/// clinic, makes no account, and another clinic's admin is not told (OWASP ASVS 4.1.1;
/// HIPAA 164.308(a)(4)).
#[tokio::test]
async fn a_non_admin_learns_nothing_about_which_addresses_have_accounts() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let colleague = app.user(clinic, Role::Clinician).await;
    let staff = app.user(clinic, Role::Staff).await;
    let token = app.sign_in(&staff).await;
    for body in [
        json!({ "email": colleague.email, "role": "staff" }),
        json!({ "email": fresh_email("nobody"), "role": "staff" }),
        json!({ "email": colleague.email.to_uppercase(), "role": "staff" }),
        json!({ "email": "not an address", "role": "superuser" }),
        json!({ "unexpected": true }),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/users/invitations",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(reply.body, forbidden(), "{body}");
    }
    // Not even a body that is not JSON changes the answer.
    let garbled = Request::post("/users/invitations")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)))
        .body(Body::from("{\"email\": "))
        .unwrap();
    let reply = app.send(garbled).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, forbidden());

    // The clinic's admin is told, whatever the case of the address.
    let (_, admin) = app.admin(clinic).await;
    for email in [colleague.email.clone(), colleague.email.to_uppercase()] {
        let reply = app.invite(&admin, &email, Role::Staff).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{email}");
        assert_eq!(
            reply.body,
            json!({ "error": "an account with this email address exists in this clinic" })
        );
    }
    // An address taken after its invitation was sent gets no second account.
    let invitation = app.invitation(&admin, Role::Staff).await;
    accounts::create(
        &app.pool,
        &app.state.hasher,
        &app.state.keyring,
        &*app.state.clock,
        NewUser {
            email: invitation.email.clone(),
            role: Role::Staff,
            clinic: ClinicChoice::Existing(clinic),
            password: Password::new(PASSWORD),
        },
    )
    .await
    .unwrap();
    let reply = app.accept(&invitation.token, NEW_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, unauthorized());
    assert_eq!(accounts_with_email(&app, &invitation.email).await, 1);

    if one_clinic_only() {
        return;
    }
    // Another clinic's admin inviting this clinic's colleague is told nothing, and the
    // invitation makes nothing: the colleague's account stays theirs.
    let other = app.clinic("Synthetic Clinic B").await;
    let (_, other_admin) = app.admin(other).await;
    let invited = app
        .invite(&other_admin, &colleague.email, Role::Admin)
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let token = invited.body["token"].as_str().unwrap();
    let reply = app.accept(token, NEW_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, unauthorized());
    let session = app.sign_in(&colleague).await;
    let me = app.call(Method::GET, "/me", Some(&session), None).await;
    assert_eq!(me.body["clinic_id"], json!(clinic.to_string()));
    assert_eq!(me.body["role"], json!("clinician"));
}

/// A new invitation for an address voids the clinic's earlier unused ones: a token sent
/// with a role the admin has since corrected, or to an inbox since lost, stops working.
#[tokio::test]
async fn a_new_invitation_voids_the_earlier_ones_for_that_address() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let first = app.invitation(&admin, Role::Admin).await;
    let second = app.invite(&admin, &first.email, Role::Staff).await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);

    let reply = app.accept(&first.token, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, unauthorized());
    let reply = app
        .accept(second.body["token"].as_str().unwrap(), PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["role"], json!("staff"));
}

/// The password an invitation sets keeps every rule a password keeps: long enough, not a
/// common one, not made of the account's email address, its local part, the clinic's or
/// the service's name; a refused password leaves the invitation usable (NIST SP 800-63B
/// §5.1.1.2).
#[tokio::test]
async fn an_invitation_takes_only_a_password_that_keeps_the_rules() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Lakeside Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let email = "maria.synthetic@test.example.org";
    let invited = app.invite(&admin, email, Role::Clinician).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let token = invited.body["token"].as_str().unwrap();

    let mut refused = vec![
        "short".to_owned(),
        "password1234".to_owned(),
        email.to_owned(),
        "maria.synthetic!2024".to_owned(),
        "lakesidesyntheticclinic".to_owned(),
    ];
    // A service name of fewer than four letters is refused only as the whole password.
    let service = env!("CARGO_PKG_NAME");
    if service.chars().filter(|c| c.is_alphanumeric()).count() >= 4 {
        refused.push(format!("{service} is my service"));
    }
    for password in &refused {
        let reply = app.accept(token, password).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert_eq!(reply.body["error"], json!("invalid_field"), "{password}");
        assert_eq!(reply.body["field"], json!("password"), "{password}");
        assert!(reply.body["rule"].is_string(), "{password}");
    }
    let reply = app.accept(token, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
}

/// The enrolling session of an accepted invitation lasts 15 minutes: a token or TOTP
/// secret picked up later opens nothing, and the password alone does not sign the account
/// in; an admin's reset starts the enrollment anew (NIST SP 800-63B §6.1.2.1; HIPAA
/// 164.312(a)(2)(iii)).
#[tokio::test]
async fn an_abandoned_enrollment_ends_after_15_minutes() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (admin_user, admin) = app.admin(clinic).await;
    let invitation = app.invitation(&admin, Role::Clinician).await;
    let accepted = app.accepted(&invitation, clinic).await;

    app.clock.advance(ENROLLING_LIFETIME + Duration::seconds(1));
    let code = app.totp_code(&accepted.user);
    let reply = app.enroll(&accepted.enrolling, &code).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.get("recovery_codes").is_none());
    let login = app.log_in(&accepted.user.email, PASSWORD, LOOPBACK).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "{:?}", login.body);

    // An admin's reset of the never-enrolled account: a new secret, a new enrollment.
    let admin = app.sign_in(&admin_user).await;
    let reset = app.reset_token(&admin, &accepted.user).await;
    let reply = app.complete_reset(&reset, NEW_PASSWORD, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let secret = reply.body["totp_secret"].as_str().unwrap();
    assert_ne!(secret, accepted.totp_secret);
    assert!(
        reply.body["totp_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let user = TestUser {
        password: NEW_PASSWORD.to_owned(),
        totp_secret: totp::decode_base32(secret),
        ..accepted.user.clone()
    };
    let enrolling = reply.body["token"].as_str().unwrap().to_owned();
    let code = app.totp_code(&user);
    let reply = app.enroll(&enrolling, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    app.sign_in(&user).await;
}

// Roles and state.

/// A role change takes effect at once: every open session of the account ends, so a
/// demoted clinician's next request reads no patient, and its next sign-in carries the
/// new role (HIPAA 164.308(a)(4)(ii)(C) access modification).
#[tokio::test]
async fn a_role_change_ends_the_accounts_sessions_at_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let clinician = app.user(clinic, Role::Clinician).await;
    let sessions = [app.sign_in(&clinician).await, app.sign_in(&clinician).await];
    for token in &sessions {
        let reply = app.call(Method::GET, "/patients", Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK);
    }

    let reply = app
        .patch_user(&admin, clinician.id, json!({ "role": "staff" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["id"], json!(clinician.id.to_string()));
    assert_eq!(reply.body["role"], json!("staff"));
    assert_eq!(reply.body["disabled"], json!(false));

    for token in &sessions {
        let reply = app.call(Method::GET, "/patients", Some(token), None).await;
        assert_ne!(reply.status, StatusCode::OK);
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body, unauthorized());
    }
    let staff = TestUser {
        role: Role::Staff,
        ..clinician.clone()
    };
    let token = app.sign_in(&staff).await;
    let me = app.call(Method::GET, "/me", Some(&token), None).await;
    assert_eq!(me.body["role"], json!("staff"));
    let listed = app.listed_users(&admin).await;
    assert_eq!(entry(&listed, staff.id).unwrap()["role"], json!("staff"));
}

/// Disabling an account ends its sessions at once and it cannot sign in, answered like a
/// wrong password; enabled again, its owner signs in anew (HIPAA 164.308(a)(3)(ii)(C)
/// termination procedures).
#[tokio::test]
async fn a_disabled_accounts_sessions_end_at_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let user = app.user(clinic, Role::Clinician).await;
    let sessions = [app.sign_in(&user).await, app.sign_in(&user).await];

    let reply = app
        .patch_user(&admin, user.id, json!({ "disabled": true }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["disabled"], json!(true));
    for token in &sessions {
        let reply = app.call(Method::GET, "/patients", Some(token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let login = app.log_in(&user.email, &user.password, LOOPBACK).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login.body, unauthorized());
    let listed = app.listed_users(&admin).await;
    assert_eq!(entry(&listed, user.id).unwrap()["disabled"], json!(true));

    let reply = app
        .patch_user(&admin, user.id, json!({ "disabled": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["disabled"], json!(false));
    app.sign_in(&user).await;
    for token in &sessions {
        assert!(!app.opens(token).await, "an ended session stays ended");
    }
}

/// A clinic always keeps an enabled admin, so someone can still run its accounts: the
/// last one can be neither demoted nor disabled, by itself or anyone (HIPAA
/// 164.308(a)(3)(ii)(A) authorization and supervision).
#[tokio::test]
async fn the_clinics_last_admin_can_be_neither_demoted_nor_disabled() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (first, first_token) = app.admin(clinic).await;
    let refused_changes = [
        json!({ "role": "clinician" }),
        json!({ "disabled": true }),
        json!({ "role": "staff", "disabled": true }),
    ];
    for change in &refused_changes {
        let reply = app.patch_user(&first_token, first.id, change.clone()).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{change}");
        assert_eq!(reply.body, last_admin(), "{change}");
    }

    // A second admin, disabled, leaves the first the last enabled one.
    let (second, _) = app.admin(clinic).await;
    let reply = app
        .patch_user(&first_token, second.id, json!({ "disabled": true }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = app
        .patch_user(&first_token, first.id, json!({ "role": "clinician" }))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body, last_admin());

    // Enabled again, the second may demote the first, and is then the last.
    let reply = app
        .patch_user(&first_token, second.id, json!({ "disabled": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let second_token = app.sign_in(&second).await;
    let reply = app
        .patch_user(&second_token, first.id, json!({ "role": "clinician" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(!app.opens(&first_token).await);
    for change in &refused_changes {
        let reply = app
            .patch_user(&second_token, second.id, change.clone())
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{change}");
        assert_eq!(reply.body, last_admin(), "{change}");
    }
    assert_eq!(enabled_admins(&app).await, [second.id.to_string()]);
}

/// Two admins demoting each other at the same moment leave one admin, never none: the
/// last-admin rule holds when the changes race.
#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (mut survivor, mut survivor_token) = app.admin(clinic).await;
    for round in 0..3 {
        let (other, other_token) = app.admin(clinic).await;
        let demote = |token: &str, id: UserId| {
            api_request(
                Method::PATCH,
                &format!("/users/{id}"),
                Some(token),
                Some(json!({ "role": "clinician" })),
                LOOPBACK,
            )
        };
        let replies = app
            .send_all(vec![
                demote(&survivor_token, other.id),
                demote(&other_token, survivor.id),
            ])
            .await;
        let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|status| **status == StatusCode::OK)
                .count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|status| [
                StatusCode::OK,
                StatusCode::CONFLICT,
                StatusCode::FORBIDDEN,
                StatusCode::UNAUTHORIZED
            ]
            .contains(status)),
            "round {round}: {statuses:?}"
        );
        let admins = enabled_admins(&app).await;
        assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
        if admins[0] == other.id.to_string() {
            survivor = other;
            survivor_token = other_token;
        }
        assert!(app.opens(&survivor_token).await);
    }
}

/// An admin reaches only its own clinic's accounts: an id of another clinic's account is
/// answered like one that does not exist, and that account is untouched (HIPAA
/// 164.312(a)(1); OWASP ASVS 4.2.1 insecure direct object references).
#[tokio::test]
async fn another_clinics_user_id_is_not_found() {
    let app = TestApp::new().await;
    let home = app.clinic("Synthetic Clinic A").await;
    let (_, admin) = app.admin(home).await;
    for (method, uri, body) in admin_steps(uuid::Uuid::new_v4()) {
        let reply = app.call(method.clone(), &uri, Some(&admin), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(reply.body, not_found());
    }
    if one_clinic_only() {
        return;
    }

    let other = app.clinic("Synthetic Clinic B").await;
    let foreign = app.user(other, Role::Clinician).await;
    let foreign_token = app.sign_in(&foreign).await;
    for (method, uri, body) in admin_steps(foreign.id) {
        let reply = app.call(method.clone(), &uri, Some(&admin), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(reply.body, not_found());
    }
    assert!(entry(&app.listed_users(&admin).await, foreign.id).is_none());
    let me = app
        .call(Method::GET, "/me", Some(&foreign_token), None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "the session lives on");
    assert_eq!(me.body["role"], json!("clinician"));
    let mut superuser = TestDb::connect(&app.db.admin).await;
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM account_tokens WHERE user_id = $1")
        .bind(to_uuid(foreign.id))
        .fetch_one(&mut superuser)
        .await
        .unwrap();
    assert_eq!(tokens, 0, "no reset token was made");
}

/// Only a clinic's admin lists, changes, resets or signs out accounts: every other role is
/// refused on the record, for its own account too, so nobody promotes themselves (HIPAA
/// 164.308(a)(4); OWASP ASVS 4.1.3).
#[tokio::test]
async fn only_admins_change_reset_or_sign_out_accounts() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let target = app.user(clinic, Role::Clinician).await;
    let target_token = app.sign_in(&target).await;
    for role in [Role::Clinician, Role::Staff, Role::Auditor] {
        let user = app.user(clinic, role).await;
        let token = app.sign_in(&user).await;
        let mut requests = vec![(Method::GET, "/users".to_owned(), None)];
        requests.extend(admin_steps(target.id));
        requests.push((
            Method::PATCH,
            format!("/users/{}", user.id),
            Some(json!({ "role": "admin" })),
        ));
        let count = requests.len();
        for (method, uri, body) in requests {
            let reply = app.call(method.clone(), &uri, Some(&token), body).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role} {method} {uri}");
            assert_eq!(reply.body, forbidden(), "{role} {method} {uri}");
        }
        let me = app.call(Method::GET, "/me", Some(&token), None).await;
        assert_eq!(me.body["role"], json!(role), "{role}");
        assert_eq!(
            count_events(&app, "denied", Some(user.id)).await,
            count,
            "{role}"
        );
    }
    assert!(app.opens(&target_token).await);
    assert_eq!(app.count_as_admin("account_tokens").await, 0);
}

/// Every request body of the accounts API takes exactly its fields: a clinic, a role, an
/// address or an account id slipped into one is refused with 422 and changes nothing, and
/// a change must change something (OWASP ASVS 5.1.2 mass assignment).
#[tokio::test]
async fn account_requests_refuse_fields_they_do_not_take() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (admin_user, admin) = app.admin(clinic).await;
    let clinic_id = clinic.to_string();

    let reply = app
        .call(
            Method::POST,
            "/users/invitations",
            Some(&admin),
            Some(
                json!({ "email": fresh_email("invitee"), "role": "staff", "clinic_id": clinic_id }),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count_as_admin("account_tokens").await, 0);

    // The holder of an invitation chooses no role; the token stays good.
    let invitation = app.invitation(&admin, Role::Staff).await;
    let reply = app
        .api(
            Method::POST,
            "/invitations/accept",
            None,
            Some(json!({ "token": invitation.token, "password": PASSWORD, "role": "admin" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = app.accepted(&invitation, clinic).await;
    let code = app.totp_code(&accepted.user);
    let reply = app
        .api(
            Method::POST,
            "/auth/mfa/enroll",
            Some(&accepted.enrolling),
            Some(json!({ "code": code, "totp_secret": accepted.totp_secret })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app.enroll(&accepted.enrolling, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let user = accepted.user;

    for change in [
        json!({ "role": "clinician", "clinic_id": clinic_id }),
        json!({ "email": fresh_email("renamed") }),
        json!({ "role": "superuser" }),
        json!({ "disabled": "yes" }),
        json!({}),
    ] {
        let reply = app.patch_user(&admin, user.id, change.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{change}");
    }
    let listed = app.listed_users(&admin).await;
    let account = entry(&listed, user.id).unwrap();
    assert_eq!(account["role"], json!("staff"));
    assert_eq!(account["email"], json!(user.email));
    assert_eq!(account["disabled"], json!(false));
    assert!(app.opens(&token).await, "a refused change ends no session");

    let reply = app
        .call(
            Method::POST,
            "/me/password",
            Some(&token),
            Some(json!({
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "user_id": admin_user.id.to_string(),
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    let reset = app.reset_token(&admin, &user).await;
    let code = app.totp_code(&user);
    let mut body = json!({ "token": reset, "password": NEW_PASSWORD, "code": code });
    body["user_id"] = json!(admin_user.id.to_string());
    let reply = app
        .api(Method::POST, "/password-reset/complete", None, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app.complete_reset(&reset, NEW_PASSWORD, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    // The admin's password is the admin's still.
    app.sign_in(&admin_user).await;
}

// Passwords.

/// Changing a password takes the current one, and ends the account's other sessions,
/// which may be those of someone who knew the old one; the session that changed it stays
/// (OWASP ASVS 2.1.6, 3.3.3).
#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let mut user = app.user(clinic, Role::Clinician).await;
    let current = app.sign_in(&user).await;
    let other = app.sign_in(&user).await;
    let change = |current_password: &str, new_password: &str| json!({ "current_password": current_password, "new_password": new_password });

    let reply = app
        .call(
            Method::POST,
            "/me/password",
            Some(&current),
            Some(change("not the synthetic password", NEW_PASSWORD)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], json!("current_password"));
    let reply = app
        .call(
            Method::POST,
            "/me/password",
            Some(&current),
            Some(change(PASSWORD, "password1234")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], json!("new_password"));
    assert!(app.opens(&other).await, "a refused change ends nothing");

    let reply = app
        .call(
            Method::POST,
            "/me/password",
            Some(&current),
            Some(change(PASSWORD, NEW_PASSWORD)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert!(app.opens(&current).await);
    assert!(!app.opens(&other).await);
    let old = app.log_in(&user.email, PASSWORD, LOOPBACK).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    user.password = NEW_PASSWORD.to_owned();
    app.sign_in(&user).await;
}

/// An admin's password reset ends the account's sessions at once, and its token sets a
/// new password only with the account's second factor, a TOTP or a recovery code: a
/// reset token intercepted on its way opens nothing, and a refused attempt leaves the
/// token to its owner; completing the reset ends every session again (OWASP ASVS 2.5.6,
/// 2.5.7; NIST SP 800-63B §6.1.2.3).
#[tokio::test]
async fn a_password_reset_ends_the_sessions_and_still_needs_the_second_factor() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (admin_user, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let mut user = onboarded.user.clone();
    let second = app.sign_in(&user).await;

    let issued = app.clock.now();
    let uri = format!("/users/{}/password-reset", user.id);
    let reply = app.call(Method::POST, &uri, Some(&admin), None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let off = timestamp(&reply.body["expires_at"]) - (issued + RESET_LIFETIME);
    assert!(off.num_seconds().abs() <= 1, "{:?}", reply.body);
    for session in [&onboarded.token, &second] {
        assert!(!app.opens(session).await, "the reset ended the session");
    }

    // Without the second factor, or with a wrong one, the token sets nothing.
    let reply = app.complete_reset(&token, NEW_PASSWORD, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    let reply = app
        .complete_reset(&token, NEW_PASSWORD, Some(&wrong_code(&app, &user)))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    let forged = "aaaa-".repeat(12) + "aaaa";
    let reply = app
        .complete_reset(&token, NEW_PASSWORD, Some(&forged))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    // A new password that breaks the rules is refused too, and the token stays good.
    let code = app.totp_code(&user);
    let reply = app
        .complete_reset(&token, "password1234", Some(&code))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], json!("password"));

    // A session opened meanwhile with the old password ends with the reset.
    let meanwhile = app.sign_in(&user).await;
    let code = app.totp_code(&user);
    let reply = app.complete_reset(&token, NEW_PASSWORD, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert!(!app.opens(&meanwhile).await);
    let old = app.log_in(&user.email, PASSWORD, LOOPBACK).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    user.password = NEW_PASSWORD.to_owned();
    app.sign_in(&user).await;

    // A recovery code stands in for the TOTP code, once. (The TOTP steps above moved
    // the clock: the admin's session may have idled out.)
    let admin = app.sign_in(&admin_user).await;
    let token = app.reset_token(&admin, &user).await;
    let code = &onboarded.recovery_codes[0];
    let reply = app.complete_reset(&token, THIRD_PASSWORD, Some(code)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    user.password = THIRD_PASSWORD.to_owned();
    let reply = app.recover(&user, code).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "the code is spent");
    assert_eq!(
        count_events(&app, "use_recovery_code", Some(user.id)).await,
        1,
        "the spent code is on the record"
    );
    app.sign_in(&user).await;
}

/// A reset token sets one password, once, within its hour: used again or late, or never
/// issued, it is refused like any unknown token (NIST SP 800-63B §5.1.2.2: a secret used
/// once; OWASP ASVS 2.3.1: it expires after a short time).
#[tokio::test]
async fn a_reused_or_expired_reset_token_is_refused() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let mut user = app.user(clinic, Role::Clinician).await;

    let token = app.reset_token(&admin, &user).await;
    let code = app.totp_code(&user);
    let reply = app.complete_reset(&token, NEW_PASSWORD, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let code = app.totp_code(&user);
    let again = app
        .complete_reset(&token, THIRD_PASSWORD, Some(&code))
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.body, unauthorized());

    let token = app.reset_token(&admin, &user).await;
    app.clock.advance(RESET_LIFETIME + Duration::seconds(1));
    let code = app.totp_code(&user);
    let late = app
        .complete_reset(&token, THIRD_PASSWORD, Some(&code))
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(late.body, unauthorized());

    for unknown in ["0".repeat(96), "not a token".to_owned()] {
        let code = app.totp_code(&user);
        let reply = app
            .complete_reset(&unknown, THIRD_PASSWORD, Some(&code))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{unknown}");
        assert_eq!(reply.body, unauthorized());
    }
    // The password of the one completed reset is the account's.
    user.password = NEW_PASSWORD.to_owned();
    app.sign_in(&user).await;
}

// Recovery codes.

/// A recovery code stands in for the TOTP code once: used again it is refused, and each
/// use is on the record (NIST SP 800-63B §5.1.2.2; OWASP ASVS 2.6.1).
#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let (user, codes) = (&onboarded.user, &onboarded.recovery_codes);

    let reply = app.recover(user, &codes[0]).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap();
    let patients = app.call(Method::GET, "/patients", Some(token), None).await;
    assert_eq!(patients.status, StatusCode::OK);

    let again = app.recover(user, &codes[0]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let other = app.recover(user, &codes[1]).await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.body);
    assert_eq!(
        count_events(&app, "use_recovery_code", Some(user.id)).await,
        2
    );
}

/// One recovery code submitted on several pending sessions at once opens one session,
/// never more (NIST SP 800-63B §5.1.2.2: a look-up secret is used once).
#[tokio::test]
async fn one_recovery_code_submitted_concurrently_opens_one_session() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let user = &onboarded.user;

    let mut requests = Vec::new();
    for n in 0..4 {
        let source = IpAddr::from([10, 32, 0, n]);
        let login = app.log_in(&user.email, &user.password, source).await;
        let pending = login.body["token"].as_str().unwrap().to_owned();
        requests.push(mfa_request(&pending, &onboarded.recovery_codes[0], source));
    }
    let replies = app.send_all(requests).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::OK)
            .count(),
        1,
        "{statuses:?}"
    );
}

/// New recovery codes need a second factor given within the last five minutes, so a
/// session left open or taken over cannot mint them; a new set voids the old one (OWASP
/// ASVS 3.7.1 re-authentication before sensitive changes; NIST SP 800-63B §5.1.2).
#[tokio::test]
async fn renewing_recovery_codes_needs_a_recent_second_factor_and_voids_the_old_ones() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let (user, old) = (&onboarded.user, &onboarded.recovery_codes);

    let token = app.sign_in(user).await;
    let reply = app
        .call(Method::POST, "/me/mfa/recovery-codes", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let new = recovery_codes(&reply.body);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));
    let reply = app.recover(user, &old[2]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "the old codes are void"
    );
    let reply = app.recover(user, &new[0]).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    // Five minutes after its second factor, a session has to give it again.
    pass_time_in_use(
        &app,
        &[&token],
        REAUTHENTICATION_WINDOW + Duration::seconds(30),
    )
    .await;
    let stale = app
        .call(Method::POST, "/me/mfa/recovery-codes", Some(&token), None)
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(stale.body, json!({ "error": "reauthentication_required" }));
    let reply = app.recover(user, &new[1]).await;
    assert_eq!(reply.status, StatusCode::OK, "the refusal voided nothing");
    assert_eq!(
        count_events(&app, "renew_recovery_codes", Some(user.id)).await,
        1
    );
}

/// A superuser's copy of the database holds no invitation or reset token, no half of one
/// that would do, no recovery code and no TOTP secret awaiting its enrollment: they are
/// stored hashed or sealed, and carry 256 bits, so a copy lets nobody in (NIST SP 800-63B
/// §5.1.2.2; OWASP ASVS 2.6.2-2.6.3; HIPAA 164.312(a)(2)(iv)).
#[tokio::test]
async fn a_database_dump_holds_no_token_recovery_code_or_pending_totp_secret() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let unused = app.invitation(&admin, Role::Staff).await;
    let invitation = app.invitation(&admin, Role::Clinician).await;
    let pending = app.accepted(&invitation, clinic).await;
    let reset = app.reset_token(&admin, &onboarded.user).await;
    assert_eq!(app.count_as_admin("recovery_codes").await, 10);
    assert!(app.count_as_admin("account_tokens").await >= 4);

    let dump = app.database_as_text().await;
    for token in [
        &onboarded.invitation.token,
        &unused.token,
        &invitation.token,
        &reset,
    ] {
        assert_eq!(token.len(), 96, "a 128-bit selector and a 256-bit verifier");
        assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert!(!dump.contains(token.as_str()), "a token in the database");
        assert!(!dump.contains(&token[32..]), "a verifier in the database");
    }
    for code in &onboarded.recovery_codes {
        let bare = code.replace('-', "");
        assert!(bare.len() >= 52, "256 bits in base32: {code}");
        assert!(
            bare.bytes()
                .all(|byte| byte.is_ascii_lowercase() || (b'2'..=b'7').contains(&byte))
        );
        assert!(
            !dump.contains(code.as_str()),
            "a recovery code in the database"
        );
        assert!(!dump.contains(&bare), "a recovery code in the database");
    }
    let secret = pending.user.totp_secret.as_deref().unwrap();
    let hex: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
    for encoding in [
        hex,
        pending.totp_secret.clone(),
        totp::secret_base32(secret),
    ] {
        assert!(
            !dump.contains(&encoding),
            "a pending TOTP secret in the database"
        );
    }
}

// Sessions.

/// An account's owner sees its own sessions, when each started and was last used, where
/// from, and which one is asking; never another account's (OWASP ASVS 3.3.4).
#[tokio::test]
async fn a_user_sees_only_their_own_sessions_with_where_and_when() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let colleague = app.user(clinic, Role::Clinician).await;
    let colleagues = app.sign_in(&colleague).await;
    let (here, there): (IpAddr, IpAddr) = ([10, 31, 0, 1].into(), [10, 31, 0, 2].into());
    let first = app.sign_in_from(&user, here).await;
    let second = app.sign_in_from(&user, there).await;

    let listed = app.listed_sessions(&first).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let expected: BTreeSet<&str> = ["id", "created_at", "last_seen_at", "source", "current"].into();
    for session in &listed {
        let fields: BTreeSet<&str> = session
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields, expected, "{session}");
        assert!(timestamp(&session["last_seen_at"]) >= timestamp(&session["created_at"]));
    }
    let current = |sessions: &[Value]| -> Vec<String> {
        sessions
            .iter()
            .filter(|session| session["current"] == json!(true))
            .map(|session| session["source"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(current(&listed), [here.to_string()]);
    let sources: BTreeSet<&str> = listed
        .iter()
        .filter_map(|session| session["source"].as_str())
        .collect();
    assert_eq!(sources, BTreeSet::from(["10.31.0.1", "10.31.0.2"]));
    let theirs = app.session_id(&colleagues).await;
    assert!(listed.iter().all(|session| session["id"] != json!(theirs)));

    // Seen from the other session, that one is current; its use moves its last-seen time.
    app.clock.advance(Duration::seconds(40));
    let from_second = app.listed_sessions(&second).await;
    assert_eq!(current(&from_second), [there.to_string()]);
    let seen = app.listed_sessions(&first).await;
    let other = seen
        .iter()
        .find(|session| session["source"] == json!(there.to_string()))
        .unwrap();
    assert!(timestamp(&other["last_seen_at"]) > timestamp(&other["created_at"]));
}

/// An owner ends any of its own sessions (a lost laptop's); another account's session id
/// is answered like an unknown one, and that session lives on (OWASP ASVS 3.3.4, 4.2.1).
#[tokio::test]
async fn a_user_ends_their_own_sessions_but_never_another_accounts() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let colleague = app.user(clinic, Role::Staff).await;
    let here = app.sign_in(&user).await;
    let lost = app.sign_in(&user).await;
    let lost_id = app.session_id(&lost).await;
    let colleagues = app.sign_in(&colleague).await;
    let colleagues_id = app.session_id(&colleagues).await;

    let revoke = |id: &str| format!("/me/sessions/{id}");
    for id in [colleagues_id.clone(), uuid::Uuid::new_v4().to_string()] {
        let reply = app
            .call(Method::DELETE, &revoke(&id), Some(&here), None)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(reply.body, not_found());
    }
    assert!(
        app.opens(&colleagues).await,
        "another account's session lives on"
    );

    let reply = app
        .call(Method::DELETE, &revoke(&lost_id), Some(&here), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert!(!app.opens(&lost).await);
    assert!(app.opens(&here).await);
    assert_eq!(app.listed_sessions(&here).await.len(), 1);
    let again = app
        .call(Method::DELETE, &revoke(&lost_id), Some(&here), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let revoked: Vec<_> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|row| row.action == "revoke_session" && row.outcome == "success")
        .collect();
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0].resource_type.as_deref(), Some("sessions"));
    assert_eq!(revoked[0].resource_id.as_deref(), Some(lost_id.as_str()));
}

/// An admin ends every session of an account at once (a stolen device, a departure);
/// the account's owner cannot be signed out by anyone else, and no other account's
/// session ends (HIPAA 164.308(a)(3)(ii)(C); OWASP ASVS 3.3.4).
#[tokio::test]
async fn an_admin_ends_every_session_of_an_account_at_once() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let user = app.user(clinic, Role::Clinician).await;
    let sessions = [app.sign_in(&user).await, app.sign_in(&user).await];
    let staff = app.user(clinic, Role::Staff).await;
    let staff_token = app.sign_in(&staff).await;
    let uri = format!("/users/{}/sessions", user.id);

    let reply = app
        .call(Method::DELETE, &uri, Some(&staff_token), None)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    for token in &sessions {
        assert!(app.opens(token).await);
    }

    let reply = app.call(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    for token in &sessions {
        assert!(!app.opens(token).await);
    }
    assert!(app.opens(&admin).await);
    assert!(app.opens(&staff_token).await);
    // Not disabled: the owner signs in again.
    app.sign_in(&user).await;
}

// Tokens and the audit trail.

/// One account's life through the API, from its invitation to a session its owner ended.
struct Journey {
    clinic: ClinicId,
    user: TestUser,
    invitation_id: String,
    revoked_session: String,
    /// Every secret handed out or set on the way: tokens, the TOTP secret and URI,
    /// recovery codes, passwords.
    secrets: Vec<String>,
}

async fn journey(app: &TestApp) -> Journey {
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let onboarded = app.onboard(&admin, clinic, Role::Clinician).await;
    let mut secrets = onboarded.secrets.clone();
    secrets.extend(onboarded.recovery_codes.iter().cloned());
    secrets.push(PASSWORD.to_owned());
    let mut user = onboarded.user.clone();

    for change in [
        json!({ "role": "auditor" }),
        json!({ "disabled": true }),
        json!({ "disabled": false }),
    ] {
        let reply = app.patch_user(&admin, user.id, change).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    user.role = Role::Auditor;

    let reset = app.reset_token(&admin, &user).await;
    let code = app.totp_code(&user);
    let reply = app.complete_reset(&reset, NEW_PASSWORD, Some(&code)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    secrets.extend([reset, NEW_PASSWORD.to_owned()]);
    user.password = NEW_PASSWORD.to_owned();

    let token = app.sign_in(&user).await;
    let reply = app
        .call(
            Method::POST,
            "/me/password",
            Some(&token),
            Some(json!({ "current_password": NEW_PASSWORD, "new_password": THIRD_PASSWORD })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    secrets.extend([token, THIRD_PASSWORD.to_owned()]);
    user.password = THIRD_PASSWORD.to_owned();

    let reply = app.recover(&user, &onboarded.recovery_codes[0]).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let reply = app
        .call(Method::POST, "/me/mfa/recovery-codes", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    secrets.extend(recovery_codes(&reply.body));

    let second = app.sign_in(&user).await;
    let revoked_session = app.session_id(&second).await;
    let reply = app
        .call(
            Method::DELETE,
            &format!("/me/sessions/{revoked_session}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    secrets.extend([token, second]);

    Journey {
        clinic,
        user,
        invitation_id: onboarded.invitation.id,
        revoked_session,
        secrets,
    }
}

/// Invitation and reset tokens, session tokens, TOTP secrets, recovery codes and
/// passwords never reach the operational log, whole or as the half of a token that
/// carries its secret (OWASP ASVS 7.1.1; HIPAA 164.312(b)).
#[tokio::test]
async fn account_secrets_never_reach_the_log() {
    let app = TestApp::new().await;
    // Every level, every crate; current-thread test runtime, so the capture sees
    // everything the requests log.
    let logs = LogCapture::start("trace");
    let journey = journey(&app).await;
    let text = logs.text();
    assert!(text.contains("\"request\""), "the capture saw the requests");
    for secret in &journey.secrets {
        let mut forms = vec![secret.clone(), secret.replace('-', "")];
        if secret.len() == 96 {
            forms.push(secret[32..].to_owned());
        }
        for form in forms {
            assert!(!text.contains(&form), "a secret in the log");
        }
    }
}

/// Every step of an account's life writes its audit event in the clinic's trail, for the
/// admin connection, the clinic's auditor and the FHIR export alike: invitation,
/// acceptance, enrollment, role change, disabling and enabling, reset and its
/// completion, password change, recovery-code use and renewal, session revocation (HIPAA
/// 164.312(b), 164.308(a)(5)(ii)(C); OWASP ASVS 7.2.1).
#[tokio::test]
async fn every_account_step_is_on_the_record() {
    let app = TestApp::new().await;
    let journey = journey(&app).await;
    let user = journey.user.id.to_string();
    let mut expected: Vec<(&str, &str, String)> = [
        "accept_invitation",
        "enroll_mfa",
        "change_role",
        "disable_user",
        "enable_user",
        "reset_password",
        "complete_password_reset",
        "change_password",
        "use_recovery_code",
        "renew_recovery_codes",
    ]
    .into_iter()
    .map(|action| (action, "users", user.clone()))
    .collect();
    expected.push((
        "invite_user",
        "account_tokens",
        journey.invitation_id.clone(),
    ));
    expected.push((
        "revoke_session",
        "sessions",
        journey.revoked_session.clone(),
    ));

    let clinic = journey.clinic.to_string();
    let rows = app.audit_rows().await;
    let missing: Vec<String> = expected
        .iter()
        .filter(|(action, resource_type, id)| {
            !rows.iter().any(|row| {
                row.action == *action
                    && row.clinic == clinic
                    && row.resource_type.as_deref() == Some(resource_type)
                    && row.resource_id.as_deref() == Some(id.as_str())
                    && row.outcome == "success"
            })
        })
        .map(|(action, resource_type, _)| format!("{action} on {resource_type}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in audit_events: {missing:?}\n{rows:#?}"
    );

    // The clinic's auditor reads the same events...
    let auditor = app
        .sign_in(&app.user(journey.clinic, Role::Auditor).await)
        .await;
    let mut items = Vec::new();
    let mut uri = "/audit?limit=200".to_owned();
    loop {
        let page = app.call(Method::GET, &uri, Some(&auditor), None).await;
        assert_eq!(page.status, StatusCode::OK);
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_after"].as_i64() {
            Some(after) => uri = format!("/audit?after={after}&limit=200"),
            None => break,
        }
    }
    let missing: Vec<&str> = expected
        .iter()
        .filter(|(action, _, id)| {
            !items.iter().any(|item| {
                item["action"] == json!(action)
                    && item["resource_id"] == json!(id)
                    && item["outcome"] == json!("success")
            })
        })
        .map(|(action, ..)| *action)
        .collect();
    assert!(missing.is_empty(), "not in GET /audit: {missing:?}");
    // ...and so does the FHIR export.
    let fhir = app
        .call(Method::GET, "/audit/fhir?limit=200", Some(&auditor), None)
        .await;
    assert_eq!(fhir.status, StatusCode::OK);
    let resources: Vec<&Value> = fhir.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .collect();
    assert!(resources.len() < 200, "one page holds the journey");
    let missing: Vec<&str> = expected
        .iter()
        .filter(|(action, _, id)| {
            !resources.iter().any(|resource| {
                resource["outcomeDesc"] == json!(format!("{action} success"))
                    && resource["entity"].to_string().contains(id.as_str())
            })
        })
        .map(|(action, ..)| *action)
        .collect();
    assert!(missing.is_empty(), "not in the FHIR export: {missing:?}");
}

/// An account change whose audit event cannot be written does not happen: each event is
/// written in the transaction of its change (HIPAA 164.312(b)).
#[tokio::test]
async fn an_account_change_without_its_audit_event_does_not_happen() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let (_, admin) = app.admin(clinic).await;
    let user = app.user(clinic, Role::Clinician).await;
    let token = app.sign_in(&user).await;
    let mut superuser = TestDb::connect(&app.db.admin).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "REVOKE INSERT ON audit_pending FROM {SERVICE_ROLE}"
    )))
    .execute(&mut superuser)
    .await
    .unwrap();

    let reply = app
        .invite(&admin, &fresh_email("invitee"), Role::Staff)
        .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.get("token").is_none());
    for (method, uri, body) in admin_steps(user.id) {
        let reply = app.call(method.clone(), &uri, Some(&admin), body).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {uri}"
        );
        assert!(reply.body.get("token").is_none());
    }
    assert_eq!(app.count_as_admin("account_tokens").await, 0);
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(to_uuid(user.id))
        .fetch_one(&mut superuser)
        .await
        .unwrap();
    assert_eq!(role, "clinician");
    assert!(app.opens(&token).await, "no session ended");
}

// The published description.

/// The accounts routes are in the published description, and nothing secret or personal
/// travels in a URL, where proxies, browser histories and logs keep it: tokens, passwords,
/// codes and email addresses go in bodies that take no field they do not declare; the
/// URLs carry opaque ids only (OWASP ASVS 8.3.1, 5.1.2).
#[tokio::test]
async fn the_accounts_routes_are_described_and_keep_tokens_and_emails_out_of_urls() {
    let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let document = reply_of(offline_app(), request).await.body;
    let paths = document["paths"].as_object().unwrap();
    let body_schema = |operation: &Value| -> Option<Value> {
        let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.strip_prefix("#/components/schemas/").unwrap();
                Some(document["components"]["schemas"][name].clone())
            }
            None => schema.is_object().then(|| schema.clone()),
        }
    };

    for (method, path) in ACCOUNT_ROUTES {
        let operation = paths
            .get(path)
            .map(|item| &item[method.to_lowercase()])
            .filter(|operation| operation.is_object())
            .unwrap_or_else(|| panic!("{method} {path} is not described"));
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            assert_eq!(parameter["in"], json!("path"), "{method} {path}");
            assert_eq!(parameter["name"], json!("id"), "{method} {path}");
            assert_eq!(
                parameter["schema"]["format"],
                json!("uuid"),
                "{method} {path}"
            );
        }
        let schema = body_schema(operation);
        assert_eq!(
            schema.is_some(),
            ROUTES_WITH_BODIES.contains(&(method, path)),
            "{method} {path}"
        );
        if let Some(schema) = schema {
            assert_eq!(
                schema["additionalProperties"],
                json!(false),
                "{method} {path}"
            );
        }
    }
    for (path, field) in [
        ("/users/invitations", "email"),
        ("/invitations/accept", "token"),
        ("/password-reset/complete", "token"),
    ] {
        let schema = body_schema(&paths[path]["post"]).unwrap();
        assert!(schema["properties"][field].is_object(), "{path}: {field}");
    }

    // No URL of the whole API carries a token, an address, a password or a code.
    for (path, item) in paths {
        let lower = path.to_lowercase();
        assert!(
            !lower.contains("token") && !lower.contains("email"),
            "{path}"
        );
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap().to_lowercase();
                for word in ["token", "email", "password", "code", "secret"] {
                    assert!(!name.contains(word), "{method} {path}: {name}");
                }
            }
        }
    }
}
