//! What admins change: roles and state at once, never the last admin, never another clinic's account.

use super::*;

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
