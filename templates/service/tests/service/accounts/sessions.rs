//! The sessions an account sees and ends, and an admin ends for it.

use super::*;

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
