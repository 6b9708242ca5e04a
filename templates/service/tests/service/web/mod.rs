//! The web interface (src/web/), over HTTP like a browser: cookies kept between requests,
//! the forms' tokens read from the pages and sent back. [`pages`] proves each rule of the
//! pages; [`browser`] drives the whole flow in a real headless Chromium.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{LOOPBACK, TestApp, TestUser};

mod browser;
mod pages;

/// The host the pages are asked for; `Origin` headers of the client's own forms match it.
pub const HOST: &str = "clinic.test";

/// A page as the service answered it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// Where a redirect leads.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
    }

    /// The first form token the page holds (every form writes `name="csrf" value="..."`).
    pub fn csrf(&self) -> String {
        self.text_after(r#"name="csrf" value=""#, '"')
    }

    /// The text between the first `marker` on the page and the next `end`.
    pub fn text_after(&self, marker: &str, end: char) -> String {
        let start = self
            .html
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} on the page: {}", self.html))
            + marker.len();
        let length = self.html[start..].find(end).expect("the text ends");
        self.html[start..start + length].to_owned()
    }
}

/// Every value of the attribute `name` in `html`, in order.
pub fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let start = at + needle.len();
            html[start..]
                .find('"')
                .map(|end| html[start..start + end].to_owned())
        })
        .collect()
}

/// A browser on the service: its cookies, and the headers a browser sends with a form of
/// the page's own origin.
pub struct Client<'a> {
    pub app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl<'a> Client<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
        }
    }

    /// Whether the client holds the cookie `name`.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.request(Method::GET, path).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// POSTs the form `fields` from a page of this origin.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let request = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("https://{HOST}"))
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// The request a browser would make, with its cookies.
    pub fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .extension(ConnectInfo(SocketAddr::new(LOOPBACK, 40_000)));
        if !self.cookies.is_empty() {
            let cookies: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        request
    }

    pub async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all(header::SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Signs `user` in through the pages: the login form, then the second factor where the
    /// role needs one. Returns the page the sign-in ends on.
    pub async fn sign_in(&mut self, user: &TestUser) -> Page {
        let form = self.get("/app/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let signed = self
            .post(
                "/app/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", &user.email),
                    ("password", &user.password),
                ],
            )
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
        if signed.location() == Some("/app/login/mfa") {
            let form = self.get("/app/login/mfa").await;
            let code = self.app.totp_code(user);
            let done = self
                .post("/app/login/mfa", &[("csrf", &form.csrf()), ("code", &code)])
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
            assert_eq!(done.location(), Some("/app"));
        }
        let home = self.get("/app").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER);
        let start = home.location().unwrap().to_owned();
        self.get(&start).await
    }
}
