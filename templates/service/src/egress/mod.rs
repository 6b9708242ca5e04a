//! Outbound data: the one way PHI leaves this service (HIPAA 164.308(b),
//! 164.312(b), 164.312(e)(1); GDPR Art. 28, 44; nDSG Art. 9, 16).
//!
//! [`EgressClient::send`] sends a request to a named vendor only when
//! - the vendor is listed in `compliance/vendors.toml`, embedded at build ([`vendors`]);
//! - it has every agreement the regime requires, signed on or before the day of the send,
//!   and processes data in a region `data_residency` allows;
//! - the URL is https, to one of the vendor's `hosts` (host and port), without
//!   credentials in it. Plain http is allowed only to a loopback address, and only by a
//!   client built with [`Transport::HttpsAndLoopbackHttp`], which the tests use.
//!
//! Anything else is refused before a byte is sent. Redirects are never followed: a
//! `Location` could point anywhere, so a 3xx answer ends the exchange as
//! [`EgressError::Redirected`]. No proxy from the environment is used either: the host
//! checked is the host connected to. The URL is a [`SafeUrl`], built only from static
//! text and opaque ids, so no PHI travels in it; the body, which may, is a `Phi` value.
//!
//! Every attempt is audited as an `egress` event naming the vendor (`resource_type`):
//! - `denied`: refused, nothing was sent;
//! - `success`: permitted; committed *before* the request is sent, so no data leaves
//!   without its record, and a send the audit trail cannot record is not made;
//! - `failure`, after a `success`: the exchange did not complete (unreachable, timed out,
//!   redirected, answer too large). The request may have reached the vendor.
//!
//! A send is a commit point: [`EgressClient::send`] takes the caller's transaction (the
//! request's, scoped to the clinic of the [`AuditContext`]), appends the `denied` or
//! `success` event to it and commits it before it answers or sends anything. So the record
//! of a disclosure or of a refusal cannot roll back with the caller's work, the caller's
//! own access (the read of what it sends, with its audit events) is on the record before
//! the data leaves, and the request never holds one pooled connection while it waits for
//! another: with every connection held by a request waiting for a second one, the pool
//! would deadlock. A caller with more to do afterwards begins a new transaction. The
//! `failure` event is written in a transaction of its own, once the caller's connection
//! is back in the pool. Events are chained as their transaction commits; while other
//! commits of the clinic hold the chain, the commit waits at most
//! [`EgressClient::audit_lock_timeout`] and then fails closed ([`EgressError::Audit`]),
//! rolling the caller's transaction back with it.

use std::net::IpAddr;
use std::time::Duration;

use chrono::NaiveDate;
use phi_guard::{Phi, RedactedDebug, SafeUrl};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url, redirect};
use sqlx::PgPool;

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome};
use crate::config::DATA_RESIDENCY;
use crate::db::{self, Tx};

pub mod vendors;

pub use vendors::{Agreement, REGIME, Vendor, Vendors, VendorsError};

/// The audit label of a send to a vendor that is not listed. The name asked for goes to
/// the structured log instead: labels are static, and a name that is not in the reviewed
/// list is not one.
pub const UNLISTED_VENDOR: &str = "unlisted vendor";

/// How long connecting to a vendor may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole exchange may take, the answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read from a vendor.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// How long the client waits for the clinic's audit chain (see the module docs).
pub const AUDIT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Which schemes the client sends over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS (TLS 1.3, Mozilla's roots) only: what the service runs with.
    Https,
    /// HTTPS, and plain HTTP to a loopback address (`127.0.0.0/8`, `::1`; not a name,
    /// which DNS could point elsewhere): for tests whose vendor is a local server. Never
    /// in production: PHI would cross a network unencrypted.
    HttpsAndLoopbackHttp,
}

/// Why a send was refused before anything was sent. The messages name the vendor's
/// entry in `compliance/vendors.toml`, never the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the vendor is not listed in compliance/vendors.toml; list it there once its \
         agreement is signed, and rebuild"
    )]
    UnlistedVendor,
    #[error(
        "it has no signed {agreement}, which regime `{regime}` requires: add `{} = \
         YYYY-MM-DD` to its entry in compliance/vendors.toml once it is signed",
        agreement.key()
    )]
    AgreementMissing {
        agreement: Agreement,
        regime: String,
    },
    #[error(
        "its {agreement} is dated {date}, after today: nothing is sent before the agreement \
         is in force"
    )]
    AgreementNotYetSigned {
        agreement: Agreement,
        date: NaiveDate,
    },
    #[error(
        "it processes data in region `{}`, not within data_residency `{data_residency}`: \
         choose a vendor region in `{data_residency}` (or `{data_residency}-<zone>`)",
        region.as_deref().unwrap_or("(none given)")
    )]
    RegionNotAllowed {
        region: Option<String>,
        data_residency: String,
    },
    #[error("the URL is not an absolute http(s) URL")]
    InvalidUrl,
    #[error(
        "the URL is plain http: data leaves over https only (plain http only to a \
         loopback address, in tests)"
    )]
    NotHttps,
    #[error("the URL carries credentials; send them in a header instead")]
    CredentialsInUrl,
    #[error(
        "`{0}` is not one of its `hosts` in compliance/vendors.toml; list the host (and \
         port) there if the vendor really serves it"
    )]
    HostNotListed(String),
}

/// Why a send did not complete.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// Refused by the rules; nothing was sent, and the refusal is on the audit trail,
    /// committed with the caller's transaction.
    #[error("sending to vendor `{vendor}` is refused: {refusal}")]
    Refused { vendor: String, refusal: Refusal },
    /// The vendor answered 3xx, which is not followed.
    #[error(
        "vendor `{vendor}` answered with a redirect (HTTP {status}), which is not followed \
         so that no data is steered to a host outside its `hosts`: use the final URL"
    )]
    Redirected { vendor: String, status: StatusCode },
    #[error("vendor `{vendor}` could not be reached or did not answer in time: {source}")]
    Transport {
        vendor: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("vendor `{vendor}` answered with more than {MAX_RESPONSE_BYTES} bytes")]
    ResponseTooLarge { vendor: String },
    /// The audit event could not be written, so nothing was sent (and the caller's
    /// transaction rolled back).
    #[error("the egress audit event could not be written, so nothing was sent: {0}")]
    Audit(#[source] sqlx::Error),
    #[error("the egress HTTP client cannot be built: {0}")]
    Client(#[source] reqwest::Error),
    #[error("the egress client's TLS cannot be configured: {0}")]
    Tls(#[source] rustls::Error),
    #[error(transparent)]
    Vendors(#[from] VendorsError),
}

/// One request to a vendor. The body may be PHI, so it is a [`Phi`] value; header
/// values (credentials) are marked sensitive and never printed.
#[derive(RedactedDebug)]
pub struct EgressRequest {
    vendor: String,
    method: Method,
    url: SafeUrl,
    headers: HeaderMap,
    body: Option<Phi<Vec<u8>>>,
}

impl EgressRequest {
    /// A `method` request to `url` of the vendor listed as `vendor`.
    pub fn new(vendor: impl Into<String>, method: Method, url: SafeUrl) -> Self {
        Self {
            vendor: vendor.into(),
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// A POST to `url` of `vendor`.
    pub fn post(vendor: impl Into<String>, url: SafeUrl) -> Self {
        Self::new(vendor, Method::POST, url)
    }

    /// Adds a header, e.g. the vendor's API credentials.
    #[must_use]
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.append(name, value);
        self
    }

    /// Sets the body and its content type.
    #[must_use]
    pub fn body(mut self, content_type: HeaderValue, body: Phi<Vec<u8>>) -> Self {
        self.headers.insert(CONTENT_TYPE, content_type);
        self.body = Some(body);
        self
    }
}

/// A vendor's answer (any status but a redirect). Its body may be PHI.
#[derive(RedactedDebug)]
pub struct EgressResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Phi<Vec<u8>>,
}

/// Sends requests to the vendors of a reviewed list, audits every attempt, and refuses
/// the rest (see the module docs).
#[derive(Debug, Clone)]
pub struct EgressClient {
    vendors: Vendors,
    transport: Transport,
    http: reqwest::Client,
    pool: PgPool,
    audit_lock_timeout: Duration,
}

impl EgressClient {
    /// The service's client: the list shipped in this build, HTTPS only. `pool` is the
    /// service role's, for the `failure` events written after the caller's transaction.
    pub fn new(pool: PgPool) -> Result<Self, EgressError> {
        Self::with_vendors(pool, Vendors::shipped()?, Transport::Https)
    }

    /// A client for `vendors` over `transport` (tests define their own vendors).
    pub fn with_vendors(
        pool: PgPool,
        vendors: Vendors,
        transport: Transport,
    ) -> Result<Self, EgressError> {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        // HIPAA 164.312(e)(1): TLS 1.3 only, as the service's own listener.
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(EgressError::Tls)?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(transport == Transport::Https)
            .redirect(redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(EgressError::Client)?;
        Ok(Self {
            vendors,
            transport,
            http,
            pool,
            audit_lock_timeout: AUDIT_LOCK_TIMEOUT,
        })
    }

    /// The same client, waiting at most `timeout` for the clinic's audit chain.
    #[must_use]
    pub fn audit_lock_timeout(mut self, timeout: Duration) -> Self {
        self.audit_lock_timeout = timeout;
        self
    }

    /// The vendors this client may send to, if their rules hold.
    pub fn vendors(&self) -> &Vendors {
        &self.vendors
    }

    /// Sends `request` if the rules allow it, on behalf of `context` (whose clinic's
    /// audit trail records the attempt, and whose time decides whether an agreement is
    /// in force). `tx` is the caller's transaction, scoped to that clinic: the attempt is
    /// recorded in it and it is committed before anything is sent (see the module docs).
    /// Returns the vendor's answer, whatever its status, except a redirect.
    pub async fn send(
        &self,
        tx: Tx,
        context: &AuditContext,
        request: EgressRequest,
    ) -> Result<EgressResponse, EgressError> {
        let EgressRequest {
            vendor: name,
            method,
            url,
            headers,
            body,
        } = request;
        let (label, url) = match self.authorize(&name, &url, context.at.date_naive()) {
            Ok(permitted) => permitted,
            Err(refusal) => {
                let label = self
                    .vendors
                    .get(&name)
                    .map_or(UNLISTED_VENDOR, Vendor::audit_label);
                tracing::warn!(vendor = %name, reason = %refusal, "egress refused");
                // HIPAA 164.312(b): the refusal is committed before the caller hears of it.
                self.commit_with(tx, context, label, Outcome::Denied)
                    .await
                    .map_err(EgressError::Audit)?;
                return Err(EgressError::Refused {
                    vendor: name,
                    refusal,
                });
            }
        };
        // HIPAA 164.312(b): no disclosure without its record, committed before anything is
        // sent, and the caller's connection back in the pool before the exchange.
        self.commit_with(tx, context, label, Outcome::Success)
            .await
            .map_err(EgressError::Audit)?;
        let mut outgoing = self.http.request(method, url).headers(headers);
        if let Some(body) = body {
            outgoing = outgoing.body(body.into_exposed());
        }
        let result = exchange(outgoing, &name).await;
        match &result {
            Ok(response) => tracing::info!(vendor = %name, status = %response.status, "egress"),
            Err(error) => {
                tracing::warn!(vendor = %name, %error, "egress failed");
                if let Err(audit_error) = self.record_failure(context, label).await {
                    tracing::error!(vendor = %name, error = %audit_error, "egress failure not audited");
                }
            }
        }
        result
    }

    /// Applies the rules: the vendor's entry, then the URL. Returns the vendor's audit
    /// label and the URL to send to.
    fn authorize(
        &self,
        name: &str,
        url: &SafeUrl,
        today: NaiveDate,
    ) -> Result<(&'static str, Url), Refusal> {
        let vendor = self.vendors.get(name).ok_or(Refusal::UnlistedVendor)?;
        vendor.permits(REGIME, DATA_RESIDENCY, today)?;
        let url = Url::parse(url.as_str())
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http"))
            .ok_or(Refusal::InvalidUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::CredentialsInUrl);
        }
        if !vendor.serves(&url) {
            let authority = match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (host, _) => host.unwrap_or_default().to_owned(),
            };
            return Err(Refusal::HostNotListed(authority));
        }
        let loopback_allowed = self.transport == Transport::HttpsAndLoopbackHttp;
        if url.scheme() == "http" && !(loopback_allowed && is_loopback(&url)) {
            return Err(Refusal::NotHttps);
        }
        Ok((vendor.audit_label(), url))
    }

    /// Appends one `egress` event for `context`'s clinic to `tx`, and commits it.
    async fn commit_with(
        &self,
        mut tx: Tx,
        context: &AuditContext,
        label: &'static str,
        outcome: Outcome,
    ) -> Result<(), sqlx::Error> {
        // Transaction-local, like the clinic scope: it bounds this commit's wait for the
        // clinic's chain, and the pooled connection's next user waits as it would.
        let lock_timeout = format!("{}ms", self.audit_lock_timeout.as_millis().max(1));
        sqlx::query_scalar!(
            r#"SELECT set_config('lock_timeout', $1, true) AS "lock_timeout!""#,
            lock_timeout
        )
        .fetch_one(&mut *tx)
        .await?;
        let event = Event::new(AuditAction::Egress, outcome).on(label, None);
        audit::record(&mut tx, context, &[event]).await?;
        tx.commit().await
    }

    /// Records that a permitted exchange did not complete, in a transaction of its own:
    /// the caller's was committed before the send, so no other connection is held now.
    async fn record_failure(
        &self,
        context: &AuditContext,
        label: &'static str,
    ) -> Result<(), sqlx::Error> {
        let tx = db::begin_scoped(&self.pool, context.clinic, context.actor).await?;
        self.commit_with(tx, context, label, Outcome::Failure).await
    }
}

/// Sends `request` and reads the answer, up to [`MAX_RESPONSE_BYTES`].
async fn exchange(
    request: reqwest::RequestBuilder,
    vendor: &str,
) -> Result<EgressResponse, EgressError> {
    let transport = |source: reqwest::Error| EgressError::Transport {
        vendor: vendor.to_owned(),
        // The URL holds no PHI (SafeUrl), but the vendor's name says enough.
        source: source.without_url(),
    };
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    if status.is_redirection() {
        return Err(EgressError::Redirected {
            vendor: vendor.to_owned(),
            status,
        });
    }
    let too_large = || EgressError::ResponseTooLarge {
        vendor: vendor.to_owned(),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(EgressResponse {
        status,
        headers,
        body: Phi::new(body),
    })
}

/// Whether `url`'s host is a loopback address, written as one (`[::1]` as URLs write it).
fn is_loopback(url: &Url) -> bool {
    url.host_str()
        .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|host| host.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}
