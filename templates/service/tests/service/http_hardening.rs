//! HTTP hardening: security headers on every response (their exact values pinned here),
//! CORS closed unless configured, a rate limit on the authentication routes per address,
//! error bodies that name the field at fault but never internals or the values sent, and
//! logs without PHI through a whole scenario.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use tower::ServiceExt;

use ::service::auth::Role;
use ::service::auth::rate_limit;
use ::service::middleware::{self, security_headers};

use crate::support::{LOOPBACK, LogCapture, Reply, TestApp, offline_app, offline_app_with};

async fn answer(app: axum::Router, request: Request<Body>) -> axum::response::Response {
    app.oneshot(request).await.expect("the router answers")
}

/// Every security header and its exact value, written out here rather than read from the
/// service: removing or weakening one in `security_headers.rs` fails this test.
const PINNED_HEADERS: [(&str, &str); 6] = [
    // HIPAA 164.312(e)(1): HTTPS only, two years, subdomains too.
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    // OWASP ASVS 14.4.3: nothing loads, nothing frames, no base URL to hijack.
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    // HIPAA 164.312(a)(1): no cache keeps PHI or tokens.
    ("cache-control", "no-store"),
];

// OWASP ASVS 14.4: the headers reach the browser whatever the outcome.
#[tokio::test]
async fn security_headers_are_on_every_response() {
    let too_big = middleware::MAX_BODY_BYTES + 1;
    let requests = [
        ("ok", Request::get("/healthz").body(Body::empty())),
        (
            "unknown route",
            Request::get("/nowhere").body(Body::empty()),
        ),
        (
            "wrong method",
            Request::delete("/healthz").body(Body::empty()),
        ),
        (
            "not JSON",
            Request::post("/auth/login")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("x")),
        ),
        (
            "too large",
            Request::post("/healthz")
                .header(header::CONTENT_LENGTH, too_big)
                .body(Body::from(vec![b'x'; too_big])),
        ),
    ];
    for (what, request) in requests {
        let response = answer(offline_app(), request.unwrap()).await;
        for (name, value) in PINNED_HEADERS {
            let sent: Vec<_> = response.headers().get_all(name).iter().collect();
            assert_eq!(sent, [value], "{name} on {what} ({})", response.status());
        }
    }
    // And the service sends no security header this test does not pin.
    let names: Vec<&str> = security_headers::HEADERS
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let pinned: Vec<&str> = PINNED_HEADERS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, pinned);
}

fn cross_origin(method: Method, uri: &str, origin: &str) -> Request<Body> {
    let request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::ORIGIN, origin);
    let request = if method == Method::OPTIONS {
        request
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
    } else {
        request
    };
    request.body(Body::empty()).unwrap()
}

// OWASP ASVS 14.5.3: no other site's script reads the API unless the operator allows it.
#[tokio::test]
async fn cross_origin_requests_are_refused_by_default() {
    for origin in ["https://evil.example.org", "null"] {
        let read = answer(offline_app(), cross_origin(Method::GET, "/healthz", origin)).await;
        assert!(
            read.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );

        let preflight = answer(
            offline_app(),
            cross_origin(Method::OPTIONS, "/auth/login", origin),
        )
        .await;
        assert!(!preflight.status().is_success(), "{}", preflight.status());
        assert!(
            preflight
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
    }
}

#[tokio::test]
async fn cross_origin_access_is_limited_to_allowlisted_origins() {
    let allowed = "https://app.example.org";
    let app = || offline_app_with(&[("CORS_ALLOWED_ORIGINS", allowed)]);

    let preflight = answer(app(), cross_origin(Method::OPTIONS, "/auth/login", allowed)).await;
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        allowed
    );
    assert!(
        preflight
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    let read = answer(app(), cross_origin(Method::GET, "/healthz", allowed)).await;
    assert_eq!(read.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], allowed);

    for other in ["https://evil.example.org", "http://app.example.org", "null"] {
        for method in [Method::GET, Method::OPTIONS] {
            let response = answer(app(), cross_origin(method, "/healthz", other)).await;
            assert!(
                response
                    .headers()
                    .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                    .is_none(),
                "{other}"
            );
        }
    }
}

/// `POST /auth/mfa` from `source` with a wrong code and no session.
async fn mfa_from(app: &TestApp, source: IpAddr) -> Reply {
    let request = Request::post("/auth/mfa")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::new(source, 40_000)))
        .body(Body::from(json!({ "code": "000000" }).to_string()))
        .unwrap();
    app.send(request).await
}

// OWASP ASVS 2.2.1: one address cannot spray passwords over many accounts or hammer TOTP.
#[tokio::test]
async fn auth_routes_are_rate_limited_per_address() {
    let app = TestApp::new().await;
    let sprayer: IpAddr = "127.0.0.77".parse().unwrap();
    let guess = |n: u32| format!("nobody-{n}@test.example.org");

    // Every call counts, each for another account, so the per-account throttle never trips.
    // 30 calls a minute, written out: raising the limit is a change this test sees.
    for n in 0..30 {
        let reply = app
            .log_in(&guess(n), "a wrong synthetic guess", sprayer)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let limited = app
        .log_in(&guess(999), "a wrong synthetic guess", sprayer)
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=rate_limit::WINDOW.num_seconds()).contains(&retry_after));
    assert_eq!(
        mfa_from(&app, sprayer).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Another address is not affected.
    let elsewhere = app
        .log_in(&guess(0), "a wrong synthetic guess", LOOPBACK)
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        mfa_from(&app, LOOPBACK).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Once the window has passed, the address may try again.
    app.clock.advance(Duration::seconds(retry_after));
    let again = app
        .log_in(&guess(0), "a wrong synthetic guess", sprayer)
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

/// What no error body may contain: SQL, driver and serde wording, source paths, panics,
/// and the value sent (`SYN-LEAK`).
const INTERNALS: [&str; 12] = [
    "SYN-LEAK",
    "patients_moved_away",
    "relation",
    "SELECT",
    "sqlx",
    "serde",
    "line ",
    "column",
    ".rs",
    "src/",
    "panicked",
    "expected one of",
];

fn assert_no_internals(what: &str, reply: &Reply) {
    let body = reply.body.to_string();
    for internal in INTERNALS {
        assert!(!body.contains(internal), "{what}: {internal:?} in {body}");
    }
}

// HIPAA 164.502(b); OWASP ASVS 7.4.1: errors tell the client what failed, never how.
#[tokio::test]
async fn error_bodies_reveal_no_internals() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let raw = |content_type: &str, body: &str| {
        Request::post("/patients")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)))
            .body(Body::from(body.to_owned()))
            .unwrap()
    };

    let cases = [
        (
            "malformed JSON",
            raw(
                "application/json",
                r#"{"mrn": "SYN-LEAK-1", "given_name": "#,
            ),
        ),
        (
            "unknown field",
            raw(
                "application/json",
                r#"{"mrn": "SYN-LEAK-2", "given_name": "Testpatient", "family_name": "Synthetic", "date_of_birth": "1970-01-01", "clinic_id_SYN-LEAK": 1}"#,
            ),
        ),
        (
            "wrong type",
            raw(
                "application/json",
                r#"{"mrn": "SYN-LEAK-3", "given_name": "Testpatient", "family_name": "Synthetic", "date_of_birth": "SYN-LEAK-date"}"#,
            ),
        ),
        (
            "wrong content type",
            raw("text/plain", r#"{"mrn": "SYN-LEAK-4"}"#),
        ),
    ];
    for (what, request) in cases {
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert_no_internals(what, &reply);
    }

    let unknown_route = app
        .call(Method::GET, "/records/SYN-LEAK-5", Some(&token), None)
        .await;
    assert_eq!(unknown_route.status, StatusCode::NOT_FOUND);
    assert_no_internals("unknown route", &unknown_route);
    let bad_id = app
        .call(Method::GET, "/patients/SYN-LEAK-6", Some(&token), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.body, json!({ "error": "invalid path parameter" }));
    assert_no_internals("malformed id", &bad_id);

    // A database error: the table is gone from under the service.
    let mut admin = crate::support::TestDb::connect(&app.db.admin).await;
    sqlx::query("ALTER TABLE patients RENAME TO patients_moved_away")
        .execute(&mut admin)
        .await
        .unwrap();
    let database_error = app.call(Method::GET, "/patients", Some(&token), None).await;
    assert_eq!(database_error.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(database_error.body, json!({ "error": "internal_error" }));
    assert_no_internals("database error", &database_error);
}

// OWASP ASVS 7.4.1: a refused field is named, with the rule it broke, so the client can
// fix it; the value it sent (which may be PHI) is never in the answer.
#[tokio::test]
async fn invalid_field_is_named_without_its_value() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let token = app.sign_in(&app.user(clinic, Role::Clinician).await).await;
    let patient = |changes: Value| {
        let mut body = json!({
            "mrn": "SYN-FIELD-1",
            "given_name": "Testpatient",
            "family_name": "Synthetic",
            "date_of_birth": "1970-01-01"
        });
        for (key, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => body.as_object_mut().unwrap().remove(key),
                value => body
                    .as_object_mut()
                    .unwrap()
                    .insert(key.clone(), value.clone()),
            };
        }
        body
    };
    let long_mrn = format!("SYN-LEAK-{}", "7".repeat(80));
    let cases = [
        (
            json!({ "mrn": long_mrn }),
            "mrn",
            "must be 1 to 64 characters",
        ),
        (
            json!({ "given_name": "   " }),
            "given_name",
            "must be 1 to 200 characters",
        ),
        (
            json!({ "family_name": format!("SYN-LEAK-{}", "x".repeat(300)) }),
            "family_name",
            "must be 1 to 200 characters",
        ),
        (
            json!({ "date_of_birth": "SYN-LEAK-date" }),
            "date_of_birth",
            "has a value of the wrong type or format",
        ),
        (
            json!({ "mrn": 424242 }),
            "mrn",
            "has a value of the wrong type or format",
        ),
        (json!({ "family_name": null }), "family_name", "is required"),
    ];
    for (changes, field, rule) in cases {
        let body = patient(changes.clone());
        let reply = app
            .call(Method::POST, "/patients", Some(&token), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{changes}");
        assert_eq!(
            reply.body,
            json!({ "error": "invalid_field", "field": field, "rule": rule }),
            "{changes}"
        );
        assert_no_internals(&changes.to_string(), &reply);
        assert!(!reply.body.to_string().contains("424242"), "{}", reply.body);
    }
    assert_eq!(app.count_as_admin("patients").await, 0);

    // An update is held to the same rules, and named the same way.
    let id = app.patient(&token, "SYN-FIELD-2").await;
    let reply = app
        .call(
            Method::PATCH,
            &format!("/patients/{id}"),
            Some(&token),
            Some(json!({ "given_name": format!("SYN-LEAK-{}", "y".repeat(300)) })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "given_name");
    assert_no_internals("update", &reply);
}

// OWASP ASVS V7; HIPAA 164.312(b)/164.502(b): the operational log never holds PHI or secrets.
#[tokio::test]
async fn full_scenario_logs_no_phi() {
    let app = TestApp::new().await;
    let clinic = app.clinic("Synthetic Clinic").await;
    let user = app.user(clinic, Role::Clinician).await;
    let (mrn, given, family, dob) = ("SYN-LOG-424242", "Loggiana", "Nevershown", "1961-07-23");
    let (new_family, new_dob) = ("Stillhidden", "1962-08-24");

    // Every level, every crate (the driver's statements too); current-thread test
    // runtime, so the capture sees everything the requests log.
    let logs = LogCapture::start("trace");

    let failed = app
        .log_in(&user.email, "Wrong-Synthetic-Secret-77", LOOPBACK)
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let pending = app.log_in(&user.email, &user.password, LOOPBACK).await;
    let pending = pending.body["token"].as_str().unwrap().to_owned();
    let code = app.totp_code(&user);
    let session = app.mfa(&pending, &code).await;
    assert_eq!(session.status, StatusCode::OK);
    let token = session.body["token"].as_str().unwrap().to_owned();

    let new_patient = json!({
        "mrn": mrn, "given_name": given, "family_name": family, "date_of_birth": dob
    });
    let created = app
        .call(
            Method::POST,
            "/patients",
            Some(&token),
            Some(new_patient.clone()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let uri = format!("/patients/{}", created.body["id"].as_str().unwrap());
    let read = app.call(Method::GET, &uri, Some(&token), None).await;
    assert_eq!(read.body["mrn"], mrn);
    let changed = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({ "family_name": new_family, "date_of_birth": new_dob })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    for search in [
        json!({ "mrn": mrn }),
        json!({ "given_name": given, "family_name": new_family, "date_of_birth": new_dob }),
    ] {
        let found = app
            .call(Method::POST, "/patients/search", Some(&token), Some(search))
            .await;
        assert_eq!(found.status, StatusCode::OK);
        assert!(found.body.to_string().contains(mrn));
    }
    let duplicate = app
        .call(Method::POST, "/patients", Some(&token), Some(new_patient))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let missing = app
        .call(
            Method::GET,
            &format!("/patients/{}", uuid::Uuid::new_v4()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let output = logs.text();
    let lines: Vec<Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).expect("each log line is JSON"))
        .collect();
    let requests = lines.iter().filter(|l| l["message"] == "request").count();
    assert!(requests >= 10, "the request lines are logged:\n{output}");
    for secret in [
        mrn,
        given,
        family,
        new_family,
        dob,
        new_dob,
        user.email.as_str(),
        user.password.as_str(),
        "Wrong-Synthetic-Secret-77",
        // As a JSON string: the bare digits could turn up inside a timestamp.
        format!("\"{code}\"").as_str(),
        pending.as_str(),
        token.as_str(),
    ] {
        assert!(
            !output.contains(secret),
            "{secret:?} is in the log:\n{output}"
        );
    }
}
