//! What every handler can reach: the database pool (as the service role), the clock, the
//! password hasher, the session policy, the encryption key ring and the egress client.

use std::sync::Arc;

use axum::http::HeaderValue;
use sqlx::PgPool;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Environment, SessionPolicy};
use crate::crypto::Keyring;
use crate::crypto::password_hash::PasswordHasher;
use crate::egress::{EgressClient, EgressError};

#[derive(Clone)]
pub struct AppState {
    /// Connections as the service role; each request scopes its transaction to a clinic.
    pub pool: PgPool,
    /// "Now", for session timeouts, lockouts and TOTP codes.
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub sessions: SessionPolicy,
    /// Whether `X-Forwarded-For` comes from a declared TLS proxy.
    pub behind_tls_proxy: bool,
    /// `APP_ENV`: in development the service's own origin may be plain http.
    pub environment: Environment,
    /// Origins whose scripts may call the API (`CORS_ALLOWED_ORIGINS`); empty: none.
    pub cors_allowed_origins: Vec<HeaderValue>,
    /// The key-encryption keys and each clinic's unwrapped keys.
    pub keyring: Arc<Keyring>,
    /// The only way PHI leaves the service: to the vendors in `compliance/vendors.toml`
    /// (HIPAA 164.308(b), GDPR Art. 28).
    pub egress: Arc<EgressClient>,
}

impl AppState {
    /// The state the service runs with: the system clock, hashing on half the CPUs. Fails
    /// when the vendor list built into the service does not hold (the service refuses to
    /// start rather than run without its egress rules).
    pub fn new(pool: PgPool, config: &Config) -> Result<Self, EgressError> {
        Ok(Self {
            egress: Arc::new(EgressClient::new(pool.clone())?),
            pool,
            clock: Arc::new(SystemClock),
            hasher: PasswordHasher::for_this_machine(),
            sessions: SessionPolicy::from_config(config),
            behind_tls_proxy: config.behind_tls_proxy,
            environment: config.environment,
            cors_allowed_origins: config
                .cors_allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok())
                .collect(),
            keyring: Arc::new(Keyring::new(config.keks.clone())),
        })
    }

    /// The same state on another clock (tests move a manual one).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}
