//! Argon2id password hashing, off the async workers and a bounded number at a time
//! (NIST SP 800-63B 5.1.1.2; OWASP Password Storage Cheat Sheet), and the password as
//! typed, which nothing prints. Which passwords are accepted is
//! `crate::auth::password`'s rule; this module only keeps and checks them.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// Argon2id memory cost in KiB, iterations and lanes: OWASP's recommended minimum
/// (m=19456 KiB, t=2, p=1). Raise them here; stored hashes are upgraded at the next login.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// How long a login waits for a hashing slot before it is answered with 503.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

/// A password as typed: no `Debug` output, no `Serialize`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Hashing failed, or the hashing queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("the password hashing queue is full")]
    Busy,
    #[error("password hashing failed")]
    Failed,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// A new hash at the current parameters, when the password matched a hash made with
    /// other parameters: store it.
    pub rehashed: Option<String>,
}

/// Argon2id on the blocking thread pool, a bounded number at a time: a login storm
/// queues here instead of taking every CPU from the requests being served.
#[derive(Clone)]
pub struct PasswordHasher {
    slots: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account does not exist,
    /// so unknown accounts cost the same time as known ones.
    decoy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    /// At most `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy: Arc::new(OnceLock::new()),
        }
    }

    /// Half the CPUs (at least one) hash; the rest keep serving requests.
    pub fn for_this_machine() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cpus / 2)
    }

    /// A PHC string for `password` at the current parameters, with a random salt.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        self.run(move || hash_now(password.expose())).await?
    }

    /// Checks `password` against `stored`, or against a decoy when there is no account,
    /// so both take the same time. Re-hashes at the current parameters when they changed.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        let decoy = Arc::clone(&self.decoy);
        self.run(move || {
            let Some(stored) = stored else {
                let decoy = decoy
                    .get_or_init(|| hash_now(&format!("{:x}", rand_u128())).unwrap_or_default());
                let _ = verify_now(password.expose(), decoy);
                return Ok(Verification {
                    matches: false,
                    rehashed: None,
                });
            };
            let matches = verify_now(password.expose(), &stored);
            let rehashed = if matches && needs_rehash(&stored) {
                Some(hash_now(password.expose())?)
            } else {
                None
            };
            Ok(Verification { matches, rehashed })
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Failed)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|_| HashError::Failed)
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .expect("the Argon2 parameters above are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, HashError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| HashError::Failed)
}

fn verify_now(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Whether `stored` was made with another algorithm, version or parameters than
/// [`hash_now`] uses today.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return true;
    };
    // The output length and the salt may differ; the cost parameters must not.
    let costs = |params: &Params| (params.m_cost(), params.t_cost(), params.p_cost());
    hash.algorithm != Algorithm::Argon2id.ident()
        || hash.version != Some(Version::V0x13.into())
        || Params::try_from(&hash).map_or(true, |params| costs(&params) != costs(argon2().params()))
}

fn rand_u128() -> u128 {
    let mut bytes = [0u8; 16];
    // The decoy's password only has to be unguessable; on failure it is still unknown.
    let _ = getrandom::fill(&mut bytes);
    u128::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", Password::new("synthetic secret")),
            "Password([redacted])"
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_at_the_owasp_floor() {
        let hasher = PasswordHasher::new(1);
        let hash = hasher
            .hash(Password::new("synthetic passphrase"))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!needs_rehash(&hash));

        let ok = hasher
            .verify(Password::new("synthetic passphrase"), Some(hash.clone()))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                rehashed: None
            }
        );
        let wrong = hasher
            .verify(Password::new("another passphrase"), Some(hash))
            .await
            .unwrap();
        assert!(!wrong.matches);
    }

    #[tokio::test]
    async fn hash_with_old_parameters_is_upgraded_at_login() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"synthetic passphrase")
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));

        let verification = PasswordHasher::new(1)
            .verify(Password::new("synthetic passphrase"), Some(weak))
            .await
            .unwrap();
        assert!(verification.matches);
        let upgraded = verification.rehashed.expect("a new hash");
        assert!(!needs_rehash(&upgraded));
    }

    #[tokio::test]
    async fn unknown_account_is_checked_against_a_decoy() {
        let verification = PasswordHasher::new(1)
            .verify(Password::new("synthetic passphrase"), None)
            .await
            .unwrap();
        assert!(!verification.matches);
    }
}
