//! The whole interface in a real headless Chromium, driven through chromedriver over
//! WebDriver (fantoccini): sign in with TOTP, list, search, open, create and edit a
//! patient, add a note as a clinician, break the glass on a restricted patient, read the
//! audit trail as an auditor, sign out. Throughout, no request leaves the service's
//! origin (the browser's own network log), no CSP violation reaches the console, and the
//! forms are reachable by keyboard. Screenshots of the main pages go to
//! `target/screenshots/` for a reviewer.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install chromium
//! chromium-driver`); without them the test says so and passes, unless
//! `REQUIRE_BROWSER=1` (medforge's CI sets it), where a missing browser fails it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{TestApp, TestUser};
use ::service::auth::Role;
use ::service::clock::Clock;
use ::service::config::Environment;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    /// chromedriver, or `None` (with the reason printed) when the machine has no browser.
    async fn start() -> Option<Self> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "the browser tests need {} (Debian: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
            assert!(std::env::var_os("REQUIRE_BROWSER").is_none(), "{message}");
            #[allow(
                clippy::print_stderr,
                clippy::disallowed_macros,
                reason = "a note to the developer running the tests, holding no data"
            )]
            {
                eprintln!("skipped: {message}");
            }
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(driver);
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on port {port}");
    }

    /// A headless Chromium with an empty profile, its console and network logged. The
    /// flags keep Chromium from calling home (this machine's network is closed anyway).
    async fn browser(&self, profile: &Path) -> Client {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

/// The service on a loopback socket, as `serve` runs it, in the development environment:
/// the browser speaks plain HTTP to it, which production refuses (an `http://` origin is
/// another site's there).
async fn serve(app: &TestApp) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut state = app.state.clone();
    state.environment = Environment::Development;
    let router = ::service::app(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    // `localhost` is a secure context: Chromium keeps `Secure` (and `__Host-`) cookies
    // over plain HTTP there, as it would over HTTPS anywhere else.
    format!("http://localhost:{port}")
}

/// `GET /session/{id}/se/log`: chromedriver's log of `kind` (`browser` for the console,
/// `performance` for the DevTools network events) since the last call.
#[derive(Debug)]
struct ReadLog(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for ReadLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// The session's assertions, kept across pages.
struct Visit {
    browser: Client,
    origin: String,
    shots: PathBuf,
}

impl Visit {
    async fn open(&self, path: &str) {
        self.browser
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap();
        self.check().await;
    }

    /// No request the page made went to another origin, and no CSP violation or other
    /// error reached the console.
    async fn check(&self) {
        let network = self
            .browser
            .issue_cmd(ReadLog("performance"))
            .await
            .unwrap();
        for entry in network.as_array().into_iter().flatten() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let message: Value = serde_json::from_str(message).unwrap();
            if message["message"]["method"] == "Network.requestWillBeSent" {
                let url = message["message"]["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or_default();
                // Chromium's own pages (`chrome://`) are not the network; anything else
                // that is (http, https, ws, wss) must go to the service.
                let networked = ["http:", "https:", "ws:", "wss:"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme));
                assert!(
                    !networked || url.starts_with(&format!("{}/", self.origin)),
                    "a request left the service's origin: {url}"
                );
            }
        }
        let console = self.browser.issue_cmd(ReadLog("browser")).await.unwrap();
        for entry in console.as_array().into_iter().flatten() {
            let text = entry["message"].as_str().unwrap_or_default();
            assert!(
                !text.contains("Content Security Policy") && !text.contains("Refused to"),
                "a CSP violation: {text}"
            );
            // A page answered with an error status (the 404 of a restricted patient, a
            // 422 form) is logged too; the steps assert those statuses themselves.
            let status_only = text.contains("Failed to load resource: the server responded");
            assert!(
                entry["level"] != "SEVERE" || status_only,
                "the console reported: {text}"
            );
        }
    }

    async fn fill(&self, id: &str, value: &str) {
        let field = self.browser.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Submits the form of the page's `button` labelled `label`, then checks the page.
    async fn press(&self, label: &str) {
        let xpath = format!("//main//button[normalize-space(.)='{label}']");
        let button = self
            .browser
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("a button {label}"));
        self.follow(button).await;
    }

    /// Clicks `element` (a button or link that loads a page) and waits for the next page:
    /// the old page's root goes stale once the browser replaced the document.
    async fn follow(&self, element: fantoccini::elements::Element) {
        let old_page = self.browser.find(Locator::Css("html")).await.unwrap();
        element.click().await.unwrap();
        for _ in 0..200 {
            if old_page.tag_name().await.is_err() {
                self.browser
                    .wait()
                    .for_element(Locator::Css("body"))
                    .await
                    .unwrap();
                self.check().await;
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        panic!("the page did not change");
    }

    async fn text(&self) -> String {
        self.browser
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        self.browser.current_url().await.unwrap().path().to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let png = self.browser.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Tabbing from the top of the page reaches the element `id`: the form works by
    /// keyboard, in the page's order.
    async fn reachable_by_keyboard(&self, id: &str) {
        let body = self.browser.find(Locator::Css("body")).await.unwrap();
        body.click().await.unwrap();
        for _ in 0..40 {
            body.send_keys("\u{e004}").await.unwrap();
            let focused = self
                .browser
                .execute(
                    "return document.activeElement && document.activeElement.id",
                    vec![],
                )
                .await
                .unwrap();
            if focused == id {
                return;
            }
        }
        panic!("tabbing never reaches #{id}");
    }

    async fn sign_in(&self, app: &TestApp, user: &TestUser) {
        self.open("/app/login").await;
        self.reachable_by_keyboard("password").await;
        self.fill("email", &user.email).await;
        self.fill("password", &user.password).await;
        self.press("Sign in").await;
        assert_eq!(self.path().await, "/app/login/mfa");
        self.fill("code", &app.totp_code(user)).await;
        self.press("Continue").await;
    }
}

/// Where the screenshots go: `target/screenshots/` of the project.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_through_the_pages_in_a_real_browser_without_leaving_the_origin() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let clinic = app.clinic("Browser Clinic").await;
    let clinician = app.user(clinic, Role::Clinician).await;
    let colleague = app.user(clinic, Role::Clinician).await;
    let auditor = app.user(clinic, Role::Auditor).await;
    // A restricted patient in the colleague's care only.
    let token = app.sign_in(&colleague).await;
    let restricted = app.patient(&token, "BROWSER-R1").await;
    let reply = app
        .call(
            axum::http::Method::PUT,
            &format!("/patients/{restricted}/restriction"),
            Some(&token),
            Some(json!({ "restricted": true, "care_team": [colleague.id.to_string()] })),
        )
        .await;
    assert_eq!(reply.status, axum::http::StatusCode::OK, "{:?}", reply.body);
    app.patient(&token, "BROWSER-P1").await;

    let origin = serve(&app).await;
    let profile = tempfile_dir("profile");
    let visit = Visit {
        browser: driver.browser(&profile).await,
        origin,
        shots: screenshot_dir(),
    };
    visit.open("/").await;
    assert_eq!(visit.path().await, "/app/login");
    visit.screenshot("login").await;
    visit.sign_in(&app, &clinician).await;
    assert_eq!(visit.path().await, "/app/patients");
    assert!(visit.text().await.contains("BROWSER-P1"));
    visit.screenshot("patients").await;

    // Search, by record number: POSTed, the URL holds no criteria.
    visit.fill("s-mrn", "BROWSER-P1").await;
    visit.press("Search").await;
    assert_eq!(visit.path().await, "/app/patients/search");
    assert!(visit.browser.current_url().await.unwrap().query().is_none());
    assert!(visit.text().await.contains("Testpatient"));
    let link = visit
        .browser
        .find(Locator::LinkText("Synthetic, Testpatient"))
        .await
        .unwrap();
    visit.follow(link).await;
    assert!(visit.path().await.starts_with("/app/patients/"));

    // A new patient, then an edit.
    visit.open("/app/patients/new").await;
    visit.reachable_by_keyboard("mrn").await;
    visit.fill("mrn", "BROWSER-N1").await;
    visit.fill("given_name", "Browsera").await;
    visit.fill("family_name", "Newpatient").await;
    visit
        .browser
        .execute(
            "document.getElementById('date_of_birth').value = '1984-05-06'",
            vec![],
        )
        .await
        .unwrap();
    visit.screenshot("new-patient").await;
    visit.press("Save").await;
    let patient_page = visit.path().await;
    assert!(visit.text().await.contains("Newpatient, Browsera"));
    visit.open(&format!("{patient_page}/edit")).await;
    visit.fill("phone", "+41 00 111 22 33").await;
    visit.press("Save").await;
    assert_eq!(visit.path().await, patient_page);
    assert!(visit.text().await.contains("+41 00 111 22 33"));
{%- if modules contains "notes" %}

    // A note, as the clinician.
    visit
        .fill("note-body", "Synthetic note written in the browser")
        .await;
    visit.press("Add note").await;
    assert!(
        visit
            .text()
            .await
            .contains("Synthetic note written in the browser")
    );
{%- endif %}
    visit.screenshot("patient").await;

    // The restricted patient: not found, until the glass is broken with a reason.
    visit.open(&format!("/app/patients/{restricted}")).await;
    assert!(visit.text().await.contains("Not found"));
    visit
        .fill(
            "reason",
            "Collapsed at the front desk, needs the medication list now",
        )
        .await;
    visit.screenshot("break-glass").await;
    visit.press("Break the glass").await;
    assert!(visit.text().await.contains("Emergency access."));

    // Sign out: the session is over on the server too.
    let sign_out = visit
        .browser
        .find(Locator::XPath(
            "//header//button[normalize-space(.)='Sign out']",
        ))
        .await
        .unwrap();
    visit.follow(sign_out).await;
    assert_eq!(visit.path().await, "/app/login");
    visit.open("/app/patients").await;
    assert_eq!(visit.path().await, "/app/login");

    // The auditor reads the trail and sees the grant to review.
    visit.sign_in(&app, &auditor).await;
    assert_eq!(visit.path().await, "/app/audit");
    let text = visit.text().await;
    assert!(text.contains("The hash chain holds"), "{text}");
    assert!(text.contains("needs the medication list now"));
    let today = app.clock.now().date_naive().to_string();
    visit
        .browser
        .execute(
            &format!("document.getElementById('from').value = '{today}'"),
            vec![],
        )
        .await
        .unwrap();
    visit.press("Show events").await;
    assert!(visit.text().await.contains("break_glass"));
    visit.screenshot("audit").await;
    visit.browser.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
}

/// A new, empty directory under the system's temporary directory.
fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "browser-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
