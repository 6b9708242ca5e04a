//! Passwords and recovery codes: a change needs the current password, a reset still needs the second factor, each code works once.

use super::*;

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
