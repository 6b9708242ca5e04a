//! Outbound data (HIPAA 164.308(b), GDPR Art. 28): PHI reaches only a listed vendor with its agreements signed,
//! in an allowed region, at one of its hosts; every other send is refused before a byte
//! leaves, and every attempt is on the audit trail.
//!
//! The vendors are local servers on 127.0.0.1, reached over plain HTTP by a client built
//! with `Transport::HttpsAndLoopbackHttp`; the service's own client speaks HTTPS only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Redirect;
use axum::routing::{any, post};
use chrono::Days;
use phi_guard::{Phi, SafeUrl};
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use uuid::Uuid;

use ::service::audit::{self, AuditAction, AuditContext};
use ::service::audit::{Event, Outcome, RequestMeta};
use ::service::auth::Role;
use ::service::clock::Clock;
use ::service::config::DATA_RESIDENCY;
use ::service::db::{self, SERVICE_ROLE, Tx};
use ::service::egress::{
    EgressClient, EgressError, EgressRequest, EgressResponse, Refusal, Transport, UNLISTED_VENDOR,
    Vendors,
};

use crate::support::{LOOPBACK, TestApp, TestDb, sqlstate};

/// A local HTTP server counting the requests it receives.
pub(crate) struct Endpoint {
    port: u16,
    hits: Arc<AtomicUsize>,
    /// The reads and sends (action, outcome) committed when the last request arrived.
    committed_on_arrival: Arc<Mutex<Vec<(String, String)>>>,
}

impl Endpoint {
    /// A vendor endpoint: `POST /ingest` answers 200 with the body it received, after
    /// reading, as the superuser `admin` on a connection of its own, which audit events
    /// were committed by the time the data arrived.
    async fn echo(admin: &PgConnectOptions) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let committed_on_arrival = Arc::new(Mutex::new(Vec::new()));
        let (counter, witness, admin) = (
            Arc::clone(&hits),
            Arc::clone(&committed_on_arrival),
            admin.clone(),
        );
        let router = Router::new().route(
            "/ingest",
            post(move |body: Bytes| {
                counter.fetch_add(1, Ordering::SeqCst);
                let (witness, admin) = (Arc::clone(&witness), admin.clone());
                async move {
                    *witness.lock().unwrap() = committed_events(&admin).await;
                    body
                }
            }),
        );
        Self {
            port: serve(router).await,
            hits,
            committed_on_arrival,
        }
    }

    /// An endpoint that redirects every request to `location`.
    async fn redirecting_to(location: String) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let router = Router::new().route(
            "/ingest",
            any(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let redirect = Redirect::temporary(&location);
                async move { redirect }
            }),
        );
        Self {
            port: serve(router).await,
            hits,
            committed_on_arrival: Arc::default(),
        }
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn committed_on_arrival(&self) -> Vec<(String, String)> {
        self.committed_on_arrival.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:<port>/ingest`. A `SafeUrl` base is static text: this one is
    /// leaked, once per test.
    pub(crate) fn url(&self) -> SafeUrl {
        SafeUrl::new(format!("http://127.0.0.1:{}/ingest", self.port).leak())
    }
}

async fn serve(router: Router) -> u16 {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

/// The reads and sends committed so far (action, outcome), as the superuser `admin`
/// sees them on a connection of its own.
async fn committed_events(admin: &PgConnectOptions) -> Vec<(String, String)> {
    let mut admin = TestDb::connect(admin).await;
    sqlx::query_as(
        "SELECT action, outcome FROM audit_events WHERE action IN ('read', 'egress')
         ORDER BY clinic_id, seq",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
}

pub(crate) const SIGNED: &str = "Synthetic Transcription";
const UNSIGNED: &str = "Unsigned Archive";
const NOT_YET_SIGNED: &str = "Not Yet Signed Labs";
const OFFSHORE: &str = "Offshore Analytics";
const REDIRECTING: &str = "Redirecting Imaging";

/// One service with a clinic, a clinician acting, a vendor endpoint, an unlisted one, and
/// a vendor list naming the first.
pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    context: AuditContext,
    pub(crate) vendor: Endpoint,
    elsewhere: Endpoint,
    redirector: Endpoint,
    pub(crate) client: EgressClient,
}

impl Fixture {
    async fn new() -> Self {
        Self::with_app(TestApp::new().await).await
    }

    /// The fixture on `app`.
    pub(crate) async fn with_app(app: TestApp) -> Self {
        let clinic = app.clinic("Synthetic Clinic").await;
        let user = app.user(clinic, Role::Clinician).await;
        let context = AuditContext {
            clinic,
            actor: Some(user.id),
            role: Some(Role::Clinician.as_str()),
            meta: Some(RequestMeta {
                request_id: Some(Uuid::new_v4()),
                source: LOOPBACK,
            }),
            at: app.clock.now(),
        };
        let vendor = Endpoint::echo(&app.db.admin).await;
        let elsewhere = Endpoint::echo(&app.db.admin).await;
        let redirector = Endpoint::redirecting_to(elsewhere.url().into_string()).await;
        let tomorrow = app.clock.now().date_naive() + Days::new(1);
        let (port, redirector_port) = (vendor.port, redirector.port);
        let list = format!(
            r#"
[[vendor]]
name = "{SIGNED}"
purpose = "dictation to text"
hosts = ["127.0.0.1:{port}"]
region = "{DATA_RESIDENCY}"
baa = 2025-01-31
dpa = 2025-01-31

[[vendor]]
name = "{UNSIGNED}"
hosts = ["127.0.0.1:{port}"]
region = "{DATA_RESIDENCY}"

[[vendor]]
name = "{NOT_YET_SIGNED}"
hosts = ["127.0.0.1:{port}"]
region = "{DATA_RESIDENCY}"
baa = {tomorrow}
dpa = {tomorrow}

[[vendor]]
name = "{OFFSHORE}"
hosts = ["127.0.0.1:{port}"]
region = "not-{DATA_RESIDENCY}"
baa = 2025-01-31
dpa = 2025-01-31

[[vendor]]
name = "{REDIRECTING}"
hosts = ["127.0.0.1:{redirector_port}"]
region = "{DATA_RESIDENCY}-zone"
baa = 2025-01-31
dpa = 2025-01-31
"#
        );
        let client = EgressClient::with_vendors(
            app.pool.clone(),
            Vendors::parse(&list).unwrap(),
            Transport::HttpsAndLoopbackHttp,
        )
        .unwrap();
        Self {
            app,
            context,
            vendor,
            elsewhere,
            redirector,
            client,
        }
    }

    /// A synthetic dictation for `vendor` at `url`.
    fn request(vendor: &str, url: SafeUrl) -> EgressRequest {
        EgressRequest::post(vendor, url).body(
            HeaderValue::from_static("text/plain"),
            Phi::new(b"synthetic dictation, no real patient".to_vec()),
        )
    }

    /// Sends a synthetic dictation with the fixture's client; returns what came back.
    async fn send(&self, vendor: &str, url: SafeUrl) -> Result<Vec<u8>, EgressError> {
        let response = self.send_with(&self.client, vendor, url).await?;
        assert_eq!(response.status, StatusCode::OK);
        Ok(response.body.into_exposed())
    }

    /// A transaction of the fixture's clinician, as a request of theirs holds.
    pub(crate) async fn request_tx(&self) -> Tx {
        db::begin_scoped(&self.app.pool, self.context.clinic, self.context.actor)
            .await
            .unwrap()
    }

    /// Sends a synthetic dictation with `client`, from a request of the fixture's
    /// clinician.
    pub(crate) async fn send_with(
        &self,
        client: &EgressClient,
        vendor: &str,
        url: SafeUrl,
    ) -> Result<EgressResponse, EgressError> {
        let tx = self.request_tx().await;
        client
            .send(tx, &self.context, Self::request(vendor, url))
            .await
    }

    /// Sends to the vendor endpoint as `vendor` with `client`, which must refuse: nothing
    /// arrives anywhere, and the refusal is committed, audited under `label`. Returns why.
    async fn refused_by(&self, client: &EgressClient, vendor: &str, label: &str) -> Refusal {
        let refusal = refusal(self.send_with(client, vendor, self.vendor.url()).await);
        assert_eq!(self.vendor.hits() + self.elsewhere.hits(), 0, "data left");
        // Committed: visible to another connection although the send failed.
        assert_eq!(self.egress_events().await, denied(label));
        refusal
    }

    /// [`Fixture::refused_by`] the fixture's client.
    async fn refused(&self, vendor: &str, label: &str) -> Refusal {
        self.refused_by(&self.client, vendor, label).await
    }

    /// The `egress` events committed so far (outcome, vendor), as a superuser sees them
    /// on a connection of its own.
    async fn egress_events(&self) -> Vec<(String, String)> {
        let mut admin = TestDb::connect(&self.app.db.admin).await;
        sqlx::query_as(
            "SELECT outcome, resource_type FROM audit_events
             WHERE action = 'egress' ORDER BY clinic_id, seq",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap()
    }
}

fn denied(vendor: &str) -> Vec<(String, String)> {
    vec![("denied".to_owned(), vendor.to_owned())]
}

fn refusal<T>(result: Result<T, EgressError>) -> Refusal {
    match result {
        Err(EgressError::Refused { refusal, .. }) => refusal,
        Err(other) => panic!("not a refusal: {other}"),
        Ok(_) => panic!("the send was not refused"),
    }
}

#[tokio::test]
async fn a_listed_signed_vendor_in_region_receives_the_data_on_the_record() {
    let fixture = Fixture::new().await;
    let body = fixture
        .send(SIGNED, fixture.vendor.url())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(body, b"synthetic dictation, no real patient");
    assert_eq!(fixture.vendor.hits(), 1);
    assert_eq!(
        fixture.egress_events().await,
        [("success".to_owned(), SIGNED.to_owned())]
    );
    // On the record before the data arrived, not after.
    assert_eq!(
        fixture.vendor.committed_on_arrival(),
        [("egress".to_owned(), "success".to_owned())]
    );
    // The events extend the clinic's hash chain like any other.
    let mut owner = TestDb::connect(&fixture.app.db.owner).await;
    let verified = audit::verify_all(&mut owner).await.unwrap();
    assert!(verified.iter().all(|chain| chain.broken.is_none()));
}

#[tokio::test]
async fn an_unlisted_vendor_is_refused_and_the_refusal_is_audited() {
    let fixture = Fixture::new().await;
    let refusal = fixture.refused("Unreviewed Startup", UNLISTED_VENDOR).await;
    assert_eq!(refusal, Refusal::UnlistedVendor);
}

#[tokio::test]
async fn a_vendor_without_the_required_agreement_is_refused() {
    let fixture = Fixture::new().await;
    let refusal = fixture.refused(UNSIGNED, UNSIGNED).await;
    assert!(matches!(refusal, Refusal::AgreementMissing { .. }));
}

#[tokio::test]
async fn a_vendor_whose_agreement_is_not_yet_in_force_is_refused() {
    let fixture = Fixture::new().await;
    let refusal = fixture.refused(NOT_YET_SIGNED, NOT_YET_SIGNED).await;
    assert!(matches!(refusal, Refusal::AgreementNotYetSigned { .. }));
}

#[tokio::test]
async fn a_vendor_in_another_region_is_refused() {
    let fixture = Fixture::new().await;
    let refusal = fixture.refused(OFFSHORE, OFFSHORE).await;
    assert!(matches!(refusal, Refusal::RegionNotAllowed { .. }));
}

#[tokio::test]
async fn a_host_outside_the_vendors_hosts_is_refused() {
    let fixture = Fixture::new().await;
    // Another port on the same address, and the same port under another name.
    let other_port = fixture.elsewhere.url();
    let by_name = SafeUrl::new(format!("http://localhost:{}/ingest", fixture.vendor.port).leak());
    for url in [other_port, by_name] {
        let result = fixture.send(SIGNED, url).await;
        assert!(matches!(refusal(result), Refusal::HostNotListed(_)));
    }
    assert_eq!(fixture.elsewhere.hits() + fixture.vendor.hits(), 0);
    assert_eq!(
        fixture.egress_events().await,
        [denied(SIGNED), denied(SIGNED)].concat()
    );
}

#[tokio::test]
async fn a_redirect_to_an_unlisted_host_is_not_followed() {
    let fixture = Fixture::new().await;
    let result = fixture.send(REDIRECTING, fixture.redirector.url()).await;
    assert!(
        matches!(
            result,
            Err(EgressError::Redirected {
                status: StatusCode::TEMPORARY_REDIRECT,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(fixture.redirector.hits(), 1);
    assert_eq!(fixture.elsewhere.hits(), 0, "the redirect was followed");
    // Permitted and sent, then the exchange failed.
    assert_eq!(
        fixture.egress_events().await,
        [
            ("success".to_owned(), REDIRECTING.to_owned()),
            ("failure".to_owned(), REDIRECTING.to_owned())
        ]
    );
}

#[tokio::test]
async fn plain_http_is_refused_by_the_service_client() {
    let fixture = Fixture::new().await;
    let https_only = EgressClient::with_vendors(
        fixture.app.pool.clone(),
        fixture.client.vendors().clone(),
        Transport::Https,
    )
    .unwrap();
    let refusal = fixture.refused_by(&https_only, SIGNED, SIGNED).await;
    assert_eq!(refusal, Refusal::NotHttps);
}

#[tokio::test]
async fn a_send_the_audit_trail_cannot_record_is_not_made() {
    let fixture = Fixture::new().await;
    // The audit trail stops accepting events: the permitted send's record cannot be
    // written, so the send is not made.
    let mut admin = TestDb::connect(&fixture.app.db.admin).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "REVOKE INSERT ON audit_pending FROM {SERVICE_ROLE}"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let result = fixture
        .send_with(&fixture.client, SIGNED, fixture.vendor.url())
        .await;
    match result {
        // 42501: insufficient_privilege.
        Err(EgressError::Audit(error)) => assert_eq!(sqlstate(&error), "42501"),
        other => panic!("not an audit failure: {other:?}"),
    }
    assert_eq!(fixture.vendor.hits(), 0);
}

#[tokio::test]
async fn a_request_and_its_disclosure_are_on_the_record_before_the_data_leaves() {
    let fixture = Fixture::new().await;
    // A request reads what it sends, on the record in its transaction, then sends from
    // it: the send commits the read with the disclosure before the data leaves, and it
    // cannot roll back once the data is gone.
    let mut request = fixture.request_tx().await;
    let read = Event::new(AuditAction::Read, Outcome::Success);
    audit::record(&mut request, &fixture.context, &[read])
        .await
        .unwrap();
    let result = fixture
        .client
        .send(
            request,
            &fixture.context,
            Fixture::request(SIGNED, fixture.vendor.url()),
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        fixture.vendor.committed_on_arrival(),
        [
            ("read".to_owned(), "success".to_owned()),
            ("egress".to_owned(), "success".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_send_does_not_wait_on_another_open_transaction_of_the_clinic() {
    let fixture = Fixture::new().await;
    // Events are chained when their transaction commits: another request's, still
    // open, holds no lock on the clinic's chain, so the send goes out (and is recorded).
    let mut open = fixture.request_tx().await;
    audit::record(
        &mut open,
        &fixture.context,
        &[Event::new(AuditAction::Read, Outcome::Success)],
    )
    .await
    .unwrap();
    let client = fixture
        .client
        .clone()
        .audit_lock_timeout(Duration::from_millis(500));
    let result = fixture
        .send_with(&client, SIGNED, fixture.vendor.url())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(fixture.vendor.hits(), 1);
    open.commit().await.unwrap();
}

#[tokio::test]
async fn the_shipped_vendor_list_parses_and_sends_nowhere() {
    let fixture = Fixture::new().await;
    let shipped = EgressClient::new(fixture.app.pool.clone()).unwrap();
    assert!(shipped.vendors().is_empty());
    let refusal = fixture.refused_by(&shipped, SIGNED, UNLISTED_VENDOR).await;
    assert_eq!(refusal, Refusal::UnlistedVendor);
}
{%- if tls == "rustls" %}

/// A TLS 1.3 server on 127.0.0.1 with a throwaway self-signed certificate for that
/// address; counts the handshakes that complete.
async fn untrusted_tls_endpoint() -> Endpoint {
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into());
    let chain = vec![generated.cert.der().clone()];
    let config = ::service::tls::server_config_from(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            if acceptor.accept(stream).await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Endpoint {
        port,
        hits,
        committed_on_arrival: Arc::default(),
    }
}

#[tokio::test]
async fn a_vendor_host_with_an_untrusted_certificate_gets_nothing() {
    let fixture = Fixture::new().await;
    let impostor = untrusted_tls_endpoint().await;
    let port = impostor.port;
    let list = format!(
        "[[vendor]]\nname = \"{SIGNED}\"\nhosts = [\"127.0.0.1:{port}\"]\n\
         region = \"{DATA_RESIDENCY}\"\nbaa = 2025-01-31\ndpa = 2025-01-31\n"
    );
    // The service's own client: HTTPS only, Mozilla's roots.
    let client = EgressClient::with_vendors(
        fixture.app.pool.clone(),
        Vendors::parse(&list).unwrap(),
        Transport::Https,
    )
    .unwrap();
    let url = SafeUrl::new(format!("https://127.0.0.1:{port}/ingest").leak());
    let result = fixture.send_with(&client, SIGNED, url).await;
    assert!(
        matches!(result, Err(EgressError::Transport { .. })),
        "{result:?}"
    );
    assert_eq!(
        impostor.hits(),
        0,
        "a handshake with the impostor completed"
    );
    assert_eq!(
        fixture.egress_events().await,
        [
            ("success".to_owned(), SIGNED.to_owned()),
            ("failure".to_owned(), SIGNED.to_owned())
        ]
    );
}
{%- endif %}
