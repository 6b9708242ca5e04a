//! Invitations and TOTP enrollment: who may invite, what a token opens, and for how long.

use super::*;

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
