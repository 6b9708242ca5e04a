//! Cross-site request forgery (OWASP ASVS 4.2.2): a write another site's page makes with
//! the browser's session cookie is refused, on every route class, bodyless ones included;
//! the service's own pages, scripts without a browser and bearer-token clients still work.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use ::service::app;
use ::service::auth::Role;
use ::service::auth::session::COOKIE_NAME;
use ::service::config::Environment;

use crate::support::{LOOPBACK, PASSWORD, Reply, TestApp, TestUser};

/// The service's own name, as browsers send it in `Host`.
const HOST: &str = "clinic.example.org";
const OWN_ORIGIN: &str = "https://clinic.example.org";

/// How a browser describes where a request comes from: `Origin`, `Sec-Fetch-Site`.
type Site = (Option<&'static str>, Option<&'static str>);

/// Another site's page, as each header alone and both together say it.
const OTHER_SITES: [Site; 5] = [
    (Some("https://evil.example.net"), None),
    (Some("null"), None),
    // Same site, other origin: a sibling subdomain is not this service.
    (Some("https://files.clinic.example.org"), Some("same-site")),
    (None, Some("cross-site")),
    (Some(OWN_ORIGIN), Some("cross-site")),
];

/// This service's own page, and a request with neither header (curl, a script).
const OWN_SITES: [Site; 3] = [
    (Some(OWN_ORIGIN), Some("same-origin")),
    (None, Some("none")),
    (None, None),
];

/// How the request authenticates.
#[derive(Clone, Copy)]
enum Credentials<'a> {
    /// None at all, asking for a cookie session (a browser's login).
    None,
    Cookie(&'a str),
    Bearer(&'a str),
}

fn request(
    method: Method,
    uri: &str,
    credentials: Credentials<'_>,
    (origin, fetch_site): Site,
    body: Option<&Value>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST)
        .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)));
    request = match credentials {
        Credentials::None => request,
        Credentials::Cookie(token) => {
            request.header(header::COOKIE, format!("{COOKIE_NAME}={token}"))
        }
        Credentials::Bearer(token) => {
            request.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    };
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    if let Some(site) = fetch_site {
        request = request.header("sec-fetch-site", site);
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap()
}

fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "{what}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.body,
        json!({ "error": "cross_site_request" }),
        "{what}"
    );
    assert!(reply.headers.get(header::SET_COOKIE).is_none(), "{what}");
}

/// One route class's write: what it is, its method and path, whose session cookie it
/// carries (none: a login), and its body.
struct Write<'a> {
    what: &'static str,
    method: Method,
    uri: String,
    cookie: Option<&'a str>,
    body: Option<Value>,
}

impl<'a> Write<'a> {
    fn new(
        what: &'static str,
        method: Method,
        uri: &str,
        cookie: Option<&'a str>,
        body: Option<Value>,
    ) -> Self {
        Self {
            what,
            method,
            uri: uri.to_owned(),
            cookie,
            body,
        }
    }

    fn credentials(&self) -> Credentials<'_> {
        self.cookie.map_or(Credentials::None, Credentials::Cookie)
    }
}

/// A clinic with a clinician, an admin and an auditor signed in, and one patient.
struct Clinic {
    app: TestApp,
    clinician: TestUser,
    clinician_token: String,
    admin_token: String,
    auditor_token: String,
    patient: String,
}

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let clinic = app.clinic("Synthetic Clinic").await;
        let clinician = app.user(clinic, Role::Clinician).await;
        let clinician_token = app.sign_in(&clinician).await;
        let admin_token = app.sign_in(&app.user(clinic, Role::Admin).await).await;
        let auditor_token = app.sign_in(&app.user(clinic, Role::Auditor).await).await;
        let patient = app.patient(&clinician_token, "SYN-CSRF-000001").await;
        Self {
            app,
            clinician,
            clinician_token,
            admin_token,
            auditor_token,
            patient,
        }
    }

    /// A write of each route class.
    fn writes(&self) -> Vec<Write<'_>> {
        let patient = format!("/patients/{}", self.patient);
        vec![
            Write::new(
                "login",
                Method::POST,
                "/auth/login",
                None,
                Some(json!({ "email": self.clinician.email, "password": PASSWORD })),
            ),
            Write::new(
                "JSON create",
                Method::POST,
                "/patients",
                Some(&self.clinician_token),
                Some(json!({
                    "mrn": "SYN-CSRF-000002",
                    "given_name": "Forged",
                    "family_name": "Synthetic",
                    "date_of_birth": "1970-01-01"
                })),
            ),
            Write::new(
                "PATCH",
                Method::PATCH,
                &patient,
                Some(&self.clinician_token),
                Some(json!({ "family_name": "Forgedname" })),
            ),
            Write::new(
                "bodyless POST",
                Method::POST,
                &format!("/emergency-access/{}/review", uuid::Uuid::new_v4()),
                Some(&self.auditor_token),
                None,
            ),
            Write::new(
                "DELETE",
                Method::DELETE,
                &patient,
                Some(&self.admin_token),
                None,
            ),
            Write::new(
                "logout",
                Method::POST,
                "/auth/logout",
                Some(&self.clinician_token),
                None,
            ),
        ]
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        credentials: Credentials<'_>,
        site: Site,
        body: Option<&Value>,
    ) -> Reply {
        self.app
            .send(request(method, uri, credentials, site, body))
            .await
    }

    /// The patient as the clinician reads it now, over bearer.
    async fn patient_now(&self) -> Reply {
        let uri = format!("/patients/{}", self.patient);
        self.app
            .call(Method::GET, &uri, Some(&self.clinician_token), None)
            .await
    }
}

#[tokio::test]
async fn cross_site_writes_riding_on_the_session_cookie_are_refused() {
    let clinic = Clinic::new().await;
    for write in clinic.writes() {
        for site in OTHER_SITES {
            let reply = clinic
                .send(
                    write.method.clone(),
                    &write.uri,
                    write.credentials(),
                    site,
                    write.body.as_ref(),
                )
                .await;
            assert_refused(&reply, &format!("{} from {site:?}", write.what));
        }
    }
    // Nothing happened: no patient was added, changed or deleted, and the clinician's
    // session did not end.
    assert_eq!(clinic.app.count_as_admin("patients").await, 1);
    let patient = clinic.patient_now().await;
    assert_eq!(patient.status, StatusCode::OK);
    assert_eq!(patient.body["family_name"], "Synthetic");
}

#[tokio::test]
async fn same_origin_and_headerless_writes_with_the_cookie_still_work() {
    for site in OWN_SITES {
        let clinic = Clinic::new().await;
        for write in clinic.writes() {
            let reply = clinic
                .send(
                    write.method.clone(),
                    &write.uri,
                    write.credentials(),
                    site,
                    write.body.as_ref(),
                )
                .await;
            let what = write.what;
            let expected = match what {
                "login" => StatusCode::OK,
                "JSON create" => StatusCode::CREATED,
                "PATCH" => StatusCode::OK,
                // No such grant: the route was reached.
                "bodyless POST" => StatusCode::NOT_FOUND,
                _ => StatusCode::NO_CONTENT,
            };
            assert_eq!(
                reply.status, expected,
                "{what} from {site:?}: {:?}",
                reply.body
            );
        }
        let ended = clinic
            .app
            .call(Method::GET, "/me", Some(&clinic.clinician_token), None)
            .await;
        assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "logged out");
    }
}

#[tokio::test]
async fn bearer_requests_are_not_subject_to_the_cross_site_check() {
    let clinic = Clinic::new().await;
    // An API client on an allowlisted origin logs in for a bearer token...
    let login = Request::post("/auth/login")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, "https://app.example.net")
        .header("sec-fetch-site", "cross-site")
        .header("x-session-transport", "bearer")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)))
        .body(Body::from(
            json!({ "email": clinic.clinician.email, "password": PASSWORD }).to_string(),
        ))
        .unwrap();
    let login = clinic.app.send(login).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    assert!(login.body["token"].is_string());
    // ...and writes with it, whatever the headers say.
    let bearer = Credentials::Bearer(&clinic.clinician_token);
    for (n, site) in OTHER_SITES.into_iter().enumerate() {
        let created = clinic
            .send(
                Method::POST,
                "/patients",
                bearer,
                site,
                Some(&json!({
                    "mrn": format!("SYN-CSRF-1{n:05}"),
                    "given_name": "Scripted",
                    "family_name": "Synthetic",
                    "date_of_birth": "1970-01-01"
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{site:?}");
    }
    let uri = format!("/patients/{}", clinic.patient);
    let changed = clinic
        .send(
            Method::PATCH,
            &uri,
            bearer,
            OTHER_SITES[0],
            Some(&json!({ "family_name": "Changed" })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let deleted = clinic
        .send(
            Method::DELETE,
            &uri,
            Credentials::Bearer(&clinic.admin_token),
            OTHER_SITES[0],
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let logout = clinic
        .send(Method::POST, "/auth/logout", bearer, OTHER_SITES[0], None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn reads_are_not_subject_to_the_cross_site_check() {
    let clinic = Clinic::new().await;
    let uri = format!("/patients/{}", clinic.patient);
    let cookie = Credentials::Cookie(&clinic.clinician_token);
    let read = clinic
        .send(Method::GET, &uri, cookie, OTHER_SITES[0], None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
}

// HIPAA 164.312(e)(1): in production the service's own origin is https only; a page
// served over plain http under the same name (a network attacker's) is another site.
#[tokio::test]
async fn production_takes_only_the_https_origin_as_its_own() {
    let mut clinic = Clinic::new().await;
    clinic.app.state.environment = Environment::Production;
    clinic.app.router = app(clinic.app.state.clone());
    let body = json!({ "family_name": "Plainhttp" });
    let uri = format!("/patients/{}", clinic.patient);
    let cookie = Credentials::Cookie(&clinic.clinician_token);
    let plain = clinic
        .send(
            Method::PATCH,
            &uri,
            cookie,
            (Some("http://clinic.example.org"), None),
            Some(&body),
        )
        .await;
    assert_refused(&plain, "http origin in production");
    let secure = clinic
        .send(
            Method::PATCH,
            &uri,
            cookie,
            (Some(OWN_ORIGIN), None),
            Some(&body),
        )
        .await;
    assert_eq!(secure.status, StatusCode::OK);
}
