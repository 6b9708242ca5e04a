//! The record and the wire: every step audited in its transaction, no secret in a log, no token or email in a URL.

use super::*;

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
