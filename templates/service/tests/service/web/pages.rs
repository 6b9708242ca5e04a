//! The pages' rules over HTTP, each test named after the threat it stops.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use chrono::Duration;
use serde_json::json;

use super::{Client, Page, attribute_values};
use crate::support::{TestApp, TestUser};
use ::service::auth::Role;
use ::service::clock::Clock;

/// A clinic with a clinician, a staff member, an auditor and an admin, and one patient
/// made through the API.
struct Clinic {
    app: TestApp,
    clinician: TestUser,
    staff: TestUser,
    auditor: TestUser,
    admin: TestUser,
    patient: String,
}

/// The synthetic patient's values, which no URL may hold.
const MRN: &str = "WEB-MRN-4711";
const GIVEN: &str = "Wilhelmina";
const FAMILY: &str = "Testperson";
const BORN: &str = "1961-03-14";

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let clinic = app.clinic("Web Clinic").await;
        let clinician = app.user(clinic, Role::Clinician).await;
        let staff = app.user(clinic, Role::Staff).await;
        let auditor = app.user(clinic, Role::Auditor).await;
        let admin = app.user(clinic, Role::Admin).await;
        let token = app.sign_in(&clinician).await;
        let reply = app
            .call(
                Method::POST,
                "/patients",
                Some(&token),
                Some(json!({
                    "mrn": MRN, "given_name": GIVEN, "family_name": FAMILY,
                    "date_of_birth": BORN, "phone": "+41 00 000 00 00"
                })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let patient = reply.body["id"].as_str().unwrap().to_owned();
        Self {
            app,
            clinician,
            staff,
            auditor,
            admin,
            patient,
        }
    }

    /// Every page `user` can reach from their start, the patient's included.
    async fn pages_of(&self, user: &TestUser) -> Vec<(String, Page)> {
        let mut client = Client::new(&self.app);
        let start = client.sign_in(user).await;
        let mut seen = vec![("start".to_owned(), start)];
        let paths = [
            "/app/patients".to_owned(),
            "/app/patients/new".to_owned(),
            format!("/app/patients/{}", self.patient),
            format!("/app/patients/{}/edit", self.patient),
            "/app/audit".to_owned(),
            "/app/admin".to_owned(),
            "/app/account".to_owned(),
        ];
        for path in paths {
            let page = client.get(&path).await;
            seen.push((path, page));
        }
        seen
    }
}

/// The pages anyone can load without a session.
async fn public_pages(app: &TestApp) -> Vec<(String, Page)> {
    let mut client = Client::new(app);
    let mut pages = Vec::new();
    for path in ["/app/login", "/app/welcome", "/app/expired"] {
        pages.push((path.to_owned(), client.get(path).await));
    }
    pages
}

/// The public pages, and every page of every role.
async fn all_pages(clinic: &Clinic) -> Vec<(String, Page)> {
    let mut pages = public_pages(&clinic.app).await;
    for user in [
        &clinic.clinician,
        &clinic.staff,
        &clinic.auditor,
        &clinic.admin,
    ] {
        pages.extend(clinic.pages_of(user).await);
    }
    pages
}

#[tokio::test]
async fn another_clinics_patient_page_is_not_found() {
    let clinic = Clinic::new().await;
    let elsewhere = clinic.app.clinic("Other Clinic").await;
    let outsider = clinic.app.user(elsewhere, Role::Clinician).await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&outsider).await;
    let page = client
        .get(&format!("/app/patients/{}", clinic.patient))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.html.contains(FAMILY) && !page.html.contains(MRN));
    let edit = client
        .get(&format!("/app/patients/{}/edit", clinic.patient))
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    let list = client.get("/app/patients").await;
    assert!(!list.html.contains(FAMILY));
}
{%- if modules contains "notes" %}

#[tokio::test]
async fn staff_get_no_notes_on_a_patients_page() {
    let clinic = Clinic::new().await;
    let mut clinician = Client::new(&clinic.app);
    let page = clinician.sign_in(&clinic.clinician).await;
    let path = format!("/app/patients/{}", clinic.patient);
    let chart = clinician.get(&path).await;
    assert!(chart.html.contains(r#"id="notes""#), "{}", chart.html);
    let added = clinician
        .post(
            &format!("{path}/notes"),
            &[
                ("csrf", &page.csrf()),
                ("body", "Synthetic note: sleeps badly"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert!(clinician.get(&path).await.html.contains("sleeps badly"));

    let mut staff = Client::new(&clinic.app);
    let page = staff.sign_in(&clinic.staff).await;
    let chart = staff.get(&path).await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.html.contains(FAMILY));
    assert!(!chart.html.contains(r#"id="notes""#));
    assert!(!chart.html.contains("sleeps badly"));
    let refused = staff
        .post(
            &format!("{path}/notes"),
            &[("csrf", &page.csrf()), ("body", "staff writes a note")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
{%- endif %}
{%- if modules contains "encounters" %}

#[tokio::test]
async fn a_patients_page_shows_the_encounters_to_the_roles_that_read_them() {
    let clinic = Clinic::new().await;
    let token = clinic.app.sign_in(&clinic.clinician).await;
    let reply = clinic
        .app
        .call(
            Method::POST,
            "/encounters",
            Some(&token),
            Some(json!({
                "patient_id": clinic.patient, "class": "ambulatory",
                "reason": "Synthetic check-up", "started_at": "2026-01-05T09:00:00Z"
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let path = format!("/app/patients/{}", clinic.patient);
    let mut staff = Client::new(&clinic.app);
    staff.sign_in(&clinic.staff).await;
    let chart = staff.get(&path).await;
    assert!(chart.html.contains(r#"id="encounters""#), "{}", chart.html);
    assert!(chart.html.contains("Synthetic check-up"));
}
{%- endif %}

#[tokio::test]
async fn a_form_post_without_or_with_a_wrong_csrf_token_is_refused() {
    let clinic = Clinic::new().await;
    let mut other = Client::new(&clinic.app);
    let others_page = other.sign_in(&clinic.staff).await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&clinic.clinician).await;
    let before = clinic.app.count_as_admin("patients").await;
    let fields = [
        ("mrn", "CSRF-1"),
        ("given_name", "Forged"),
        ("family_name", "Request"),
        ("date_of_birth", "1990-01-01"),
    ];
    let without = client.post("/app/patients", &fields).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let another_sessions = others_page.csrf();
    let mut with_wrong: Vec<(&str, &str)> = fields.to_vec();
    with_wrong.push(("csrf", &another_sessions));
    let wrong = client.post("/app/patients", &with_wrong).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let mut with_garbage: Vec<(&str, &str)> = fields.to_vec();
    with_garbage.push(("csrf", "0000"));
    assert_eq!(
        client.post("/app/patients", &with_garbage).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(clinic.app.count_as_admin("patients").await, before);
    // The same form with this session's token goes through.
    let page = client.get("/app/patients/new").await;
    let mut with_own: Vec<(&str, &str)> = fields.to_vec();
    let own = page.csrf();
    with_own.push(("csrf", &own));
    let created = client.post("/app/patients", &with_own).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    assert_eq!(clinic.app.count_as_admin("patients").await, before + 1);
}

#[tokio::test]
async fn login_csrf_a_sign_in_form_without_its_pre_session_is_refused() {
    let clinic = Clinic::new().await;
    let mut attacker = Client::new(&clinic.app);
    let form = attacker.get("/app/login").await;
    assert!(attacker.has_cookie("__Host-pre-session"));
    // Another browser, without the attacker's pre-session cookie, posts the attacker's
    // form with the attacker's credentials: no session is started.
    let mut victim = Client::new(&clinic.app);
    let posted = victim
        .post(
            "/app/login",
            &[
                ("csrf", &form.csrf()),
                ("email", &clinic.staff.email),
                ("password", &clinic.staff.password),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert!(!victim.has_cookie("__Host-session"));
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let clinic = Clinic::new().await;
    let mut client = Client::new(&clinic.app);
    let page = client.sign_in(&clinic.clinician).await;
    let before = clinic.app.count_as_admin("patients").await;
    let body = serde_urlencoded::to_string([
        ("csrf", page.csrf().as_str()),
        ("mrn", "XSITE-1"),
        ("given_name", "Cross"),
        ("family_name", "Site"),
        ("date_of_birth", "1990-01-01"),
    ])
    .unwrap();
    for (origin, site) in [
        ("https://evil.example", "cross-site"),
        ("https://evil.example", "same-site"),
        ("null", "cross-site"),
    ] {
        let request = client
            .request(Method::POST, "/app/patients")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", site)
            .body(Body::from(body.clone()))
            .unwrap();
        let refused = client.send(request).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{origin} {site}");
    }
    assert_eq!(clinic.app.count_as_admin("patients").await, before);
}

#[tokio::test]
async fn every_page_carries_the_csp_and_no_store() {
    let clinic = Clinic::new().await;
    let pages = all_pages(&clinic).await;
    for (path, page) in &pages {
        let header = |name| {
            page.headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header(header::CACHE_CONTROL), "no-store", "{path}");
        let csp = header(header::CONTENT_SECURITY_POLICY);
        if page.status.is_redirection() {
            continue;
        }
        assert!(
            header(header::CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}"
        );
        // Nothing inline the CSP would have to allow.
        for inline in [
            "<script",
            " style=",
            " onclick=",
            " onload=",
            " onsubmit=",
            "javascript:",
        ] {
            assert!(!page.html.contains(inline), "{path} has {inline}");
        }
    }
}

#[tokio::test]
async fn no_page_links_to_another_origin() {
    let clinic = Clinic::new().await;
    let pages = all_pages(&clinic).await;
    for (path, page) in &pages {
        for attribute in [
            "href",
            "src",
            "action",
            "formaction",
            "srcset",
            "poster",
            "data",
        ] {
            for value in attribute_values(&page.html, attribute) {
                assert!(
                    value.starts_with('/') && !value.starts_with("//") || value.starts_with('#'),
                    "{path}: {attribute}={value} leaves the origin"
                );
            }
        }
        for absolute in ["http://", "https://", "url("] {
            assert!(!page.html.contains(absolute), "{path} holds {absolute}");
        }
    }
}

#[tokio::test]
async fn no_phi_appears_in_any_href_or_action() {
    let clinic = Clinic::new().await;
    // A search shows the patient found; its criteria went in the body.
    let mut client = Client::new(&clinic.app);
    let page = client.sign_in(&clinic.clinician).await;
    let found = client
        .post(
            "/app/patients/search",
            &[("csrf", &page.csrf()), ("mrn", MRN)],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.html.contains(FAMILY), "{}", found.html);
    let mut pages = clinic.pages_of(&clinic.clinician).await;
    pages.extend(clinic.pages_of(&clinic.staff).await);
    pages.push(("search".to_owned(), found));
    for (path, page) in &pages {
        for attribute in ["href", "action"] {
            for value in attribute_values(&page.html, attribute) {
                for phi in [MRN, GIVEN, FAMILY, BORN, "1961"] {
                    assert!(
                        !value.contains(phi),
                        "{path}: {attribute}={value} holds PHI"
                    );
                }
            }
        }
        assert!(
            !page.html.contains(r#"method="get""#),
            "{path}: a form would put its fields in the URL"
        );
    }
}

#[tokio::test]
async fn an_ended_session_shows_the_expired_page_and_drops_the_cookie() {
    let clinic = Clinic::new().await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&clinic.staff).await;
    clinic.app.clock.advance(Duration::hours(9));
    let page = client.get("/app/patients").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/app/expired"));
    assert!(!client.has_cookie("__Host-session"));
    let expired = client.get("/app/expired").await;
    assert_eq!(expired.status, StatusCode::OK);
    assert!(expired.html.contains("Your session has ended"));
    // Without any cookie, a page leads to the sign-in form.
    let page = client.get("/app/patients").await;
    assert_eq!(page.location(), Some("/app/login"));
}

#[tokio::test]
async fn a_patients_page_is_on_the_record_like_the_api_read() {
    let clinic = Clinic::new().await;
    let mut client = Client::new(&clinic.app);
    // Signing in lands on the list, which reads the patient once (one event per record).
    client.sign_in(&clinic.staff).await;
    let reads = || async {
        let mut admin = crate::support::TestDb::connect(&clinic.app.db.admin).await;
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_events WHERE action = 'read' \
             AND resource_type = 'patients' AND resource_id = $1::uuid AND actor_user_id = $2",
        )
        .bind(&clinic.patient)
        .bind(::service::ids::to_uuid(clinic.staff.id))
        .fetch_one(&mut admin)
        .await
        .unwrap()
    };
    let before = reads().await;
    let page = client
        .get(&format!("/app/patients/{}", clinic.patient))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(reads().await, before + 1);
}

#[tokio::test]
async fn a_role_without_access_gets_no_link_and_no_page() {
    let clinic = Clinic::new().await;
    let mut auditor = Client::new(&clinic.app);
    let start = auditor.sign_in(&clinic.auditor).await;
    assert!(start.html.contains("Audit trail"));
    assert!(!start.html.contains(r#"href="/app/patients""#));
    assert!(!start.html.contains(r#"href="/app/admin""#));
    let refused = auditor
        .get(&format!("/app/patients/{}", clinic.patient))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.html.contains(FAMILY));
    assert_eq!(
        auditor.get("/app/admin").await.status,
        StatusCode::FORBIDDEN
    );
    let mut staff = Client::new(&clinic.app);
    staff.sign_in(&clinic.staff).await;
    assert_eq!(staff.get("/app/audit").await.status, StatusCode::FORBIDDEN);
    // Staff create patients but do not change them.
    let edit = staff
        .get(&format!("/app/patients/{}/edit", clinic.patient))
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_restricted_patient_is_reached_only_by_breaking_the_glass_with_a_reason() {
    let clinic = Clinic::new().await;
    let token = clinic.app.sign_in(&clinic.clinician).await;
    let restricted = clinic
        .app
        .call(
            Method::PUT,
            &format!("/patients/{}/restriction", clinic.patient),
            Some(&token),
            Some(json!({ "restricted": true, "care_team": [] })),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK, "{:?}", restricted.body);
    let other = clinic
        .app
        .user(clinic.clinician.clinic, Role::Clinician)
        .await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&other).await;
    let path = format!("/app/patients/{}", clinic.patient);
    let hidden = client.get(&path).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert!(!hidden.html.contains(FAMILY));
    assert!(hidden.html.contains("Break the glass"));
    let short = client
        .post(
            &format!("{path}/break-glass"),
            &[("csrf", &hidden.csrf()), ("reason", "because")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(client.get(&path).await.status, StatusCode::NOT_FOUND);
    let granted = client
        .post(
            &format!("{path}/break-glass"),
            &[
                ("csrf", &hidden.csrf()),
                (
                    "reason",
                    "Unconscious in the emergency room, allergies unknown",
                ),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.html);
    let seen = client.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.html.contains(FAMILY));
    assert!(
        seen.html.contains("Emergency access."),
        "the banner: {}",
        seen.html
    );
    // The auditor sees the grant awaiting review.
    let mut auditor = Client::new(&clinic.app);
    let trail = auditor.sign_in(&clinic.auditor).await;
    assert!(trail.html.contains("allergies unknown"), "{}", trail.html);
}

#[tokio::test]
async fn a_patient_form_names_the_field_it_refuses_and_keeps_the_rest() {
    let clinic = Clinic::new().await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&clinic.clinician).await;
    let form = client.get("/app/patients/new").await;
    let refused = client
        .post(
            "/app/patients",
            &[
                ("csrf", &form.csrf()),
                ("mrn", "FORM-1"),
                ("given_name", "Valid"),
                ("family_name", "Name"),
                ("date_of_birth", "14.03.1961"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains(r#"id="date_of_birth-error""#),
        "{}",
        refused.html
    );
    assert!(refused.html.contains(r#"value="Valid""#));
    let taken = client
        .post(
            "/app/patients",
            &[
                ("csrf", &form.csrf()),
                ("mrn", MRN),
                ("given_name", "Other"),
                ("family_name", "Person"),
                ("date_of_birth", "1970-01-01"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.html.contains(r#"id="mrn-error""#), "{}", taken.html);
}

/// The welcome form, sent with the invitation `token` and a new password.
async fn accept_invitation(client: &mut Client<'_>, token: &str) -> Page {
    let form = client.get("/app/welcome").await;
    client
        .post(
            "/app/welcome",
            &[
                ("csrf", &form.csrf()),
                ("token", token),
                ("password", "a synthetic passphrase for tests"),
            ],
        )
        .await
}

#[tokio::test]
async fn an_admin_invites_through_the_pages_and_the_colleague_enrolls() {
    let clinic = Clinic::new().await;
    let mut admin = Client::new(&clinic.app);
    let page = admin.sign_in(&clinic.admin).await;
    assert!(page.html.contains(&clinic.staff.email));
    let invited = admin
        .post(
            "/app/admin/invitations",
            &[
                ("csrf", &page.csrf()),
                ("email", "new.nurse@test.example.org"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.html);
    let token = invited.text_after(r#"class="token"><code>"#, '<');

    let mut nurse = Client::new(&clinic.app);
    let enroll = accept_invitation(&mut nurse, &token).await;
    assert_eq!(enroll.status, StatusCode::OK, "{}", enroll.html);
    assert!(
        enroll.html.contains("<svg"),
        "a QR code drawn on the server"
    );
    let secret =
        ::service::auth::totp::decode_base32(&enroll.text_after(r#"class="secret">"#, '<'))
            .unwrap();
    // A wrong code may be tried again, and the secret is not shown a second time.
    let wrong = nurse
        .post(
            "/app/enroll",
            &[("csrf", &enroll.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(!wrong.html.contains("<svg") && !wrong.html.contains(r#"class="secret""#));
    let code = ::service::auth::totp::code_at(&secret, clinic.app.clock.now());
    let codes = nurse
        .post("/app/enroll", &[("csrf", &enroll.csrf()), ("code", &code)])
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.html);
    assert_eq!(codes.html.matches("<li><code>").count(), 10);
    let list = nurse.get("/app/patients").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains(FAMILY));
    // The invitation works once.
    let mut again = Client::new(&clinic.app);
    let reused = accept_invitation(&mut again, &token).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_admins_role_change_disable_and_reset_through_the_pages_take_effect_at_once() {
    let clinic = Clinic::new().await;
    let mut staff = Client::new(&clinic.app);
    staff.sign_in(&clinic.staff).await;
    assert_eq!(staff.get("/app/patients").await.status, StatusCode::OK);

    let mut admin = Client::new(&clinic.app);
    let page = admin.sign_in(&clinic.admin).await;
    let csrf = page.csrf();
    let account = |user: &TestUser| format!("/app/admin/users/{}", user.id);
    // Demoted to auditor: the open session ends at once, and the account signs in again
    // to an auditor's pages only.
    let changed = admin
        .post(
            &account(&clinic.staff),
            &[("csrf", &csrf), ("role", "auditor"), ("state", "active")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.html);
    assert_eq!(
        staff.get("/app/patients").await.location(),
        Some("/app/expired")
    );
    let mut demoted = Client::new(&clinic.app);
    let start = demoted.sign_in(&clinic.staff).await;
    assert!(start.html.contains("Audit trail"));
    assert_eq!(
        demoted.get("/app/patients").await.status,
        StatusCode::FORBIDDEN
    );
    // Disabled: that session ends too, and the account cannot sign in.
    let disabled = admin
        .post(
            &account(&clinic.staff),
            &[("csrf", &csrf), ("role", "auditor"), ("state", "disabled")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.html);
    assert_eq!(
        demoted.get("/app/audit").await.location(),
        Some("/app/expired")
    );
    let mut again = Client::new(&clinic.app);
    let form = again.get("/app/login").await;
    let refused_login = again
        .post(
            "/app/login",
            &[
                ("csrf", &form.csrf()),
                ("email", &clinic.staff.email),
                ("password", &clinic.staff.password),
            ],
        )
        .await;
    assert_eq!(refused_login.status, StatusCode::UNAUTHORIZED);
    // The clinic's last admin stays one, and the page says why.
    let refused = admin
        .post(
            &account(&clinic.admin),
            &[("csrf", &csrf), ("role", "staff"), ("state", "active")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html.contains("last admin"), "{}", refused.html);
    // A reset ends the account's sessions and shows its token once.
    let mut clinician = Client::new(&clinic.app);
    clinician.sign_in(&clinic.clinician).await;
    let reset = admin
        .post(
            &format!("{}/reset", account(&clinic.clinician)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, StatusCode::CREATED, "{}", reset.html);
    assert!(reset.html.contains(r#"class="token"><code>"#));
    assert_eq!(
        clinician.get("/app/patients").await.location(),
        Some("/app/expired")
    );
    // Staff may not reach the admin's forms at all.
    let mut auditor = Client::new(&clinic.app);
    let page = auditor.sign_in(&clinic.auditor).await;
    let forbidden = auditor
        .post(
            &account(&clinic.clinician),
            &[
                ("csrf", &page.csrf()),
                ("role", "admin"),
                ("state", "active"),
            ],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let clinic = Clinic::new().await;
    let mut elsewhere = Client::new(&clinic.app);
    elsewhere.sign_in(&clinic.staff).await;
    let mut client = Client::new(&clinic.app);
    client.sign_in(&clinic.staff).await;
    let page = client.get("/app/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("this browser"));
    let wrong = client
        .post(
            "/app/account/password",
            &[
                ("csrf", &page.csrf()),
                ("current_password", "not the password"),
                ("new_password", "another synthetic passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("The current password is not right."));
    assert_eq!(elsewhere.get("/app/patients").await.status, StatusCode::OK);
    let changed = client
        .post(
            "/app/account/password",
            &[
                ("csrf", &page.csrf()),
                ("current_password", &clinic.staff.password),
                ("new_password", "another synthetic passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.html);
    assert_eq!(
        elsewhere.get("/app/patients").await.location(),
        Some("/app/expired")
    );
    assert_eq!(client.get("/app/patients").await.status, StatusCode::OK);
}
