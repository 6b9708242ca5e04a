//! Passwords: the acceptance rule, and Argon2id hashing off the async workers (NIST SP 800-63B;
//! HIPAA 164.312(d) person or entity authentication; NIST SP 800-63B 5.1.1).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// Shortest password accepted, in characters. Length is the only composition rule.
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, in characters: long passphrases are welcome, but an
/// unbounded one would let a request buy unbounded hashing work.
pub const MAX_CHARS: usize = 256;

/// Argon2id memory cost in KiB, iterations and lanes: OWASP's recommended minimum
/// (m=19456 KiB, t=2, p=1). Raise them here; stored hashes are upgraded at the next login.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// How long a login waits for a hashing slot before it is answered with 503.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

static COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

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

/// Why a new password was refused. The message is the rule, never the password, so an
/// API answer can name it (`{"error":"invalid_field","field":"password","rule":...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRejected {
    TooShort,
    TooLong,
    Common,
    ContextSpecific,
}

impl PasswordRejected {
    /// The rule the password broke.
    pub fn rule(self) -> &'static str {
        match self {
            Self::TooShort => "a password needs at least 12 characters",
            Self::TooLong => "a password may have at most 256 characters",
            Self::Common => "this password is on the list of common passwords; choose another",
            Self::ContextSpecific => {
                "a password must not be or contain the account's email address, the name \
                 before its @, the clinic's name or the service's name; choose another"
            }
        }
    }
}

impl std::fmt::Display for PasswordRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rule())
    }
}

impl std::error::Error for PasswordRejected {}

/// What a new password must not be or contain (NIST SP 800-63B 5.1.1.2: context-specific
/// words): the account's email address and its local part, the clinic's name, and the
/// name of this service.
#[derive(Debug, Clone, Copy)]
pub struct PasswordContext<'a> {
    pub email: &'a str,
    pub clinic_name: Option<&'a str>,
}

/// The service's name, as its users know it.
const SERVICE_NAME: &str = env!("CARGO_PKG_NAME");

/// Shortest context word a password may not contain; shorter ones (a two-letter local
/// part) are refused only as the whole password, or nearly every password would be.
const MIN_CONTEXT_WORD: usize = 4;

/// Whether `password` may be set: long enough, not too long, not a common password, and
/// not built from the account's own context. There are no composition rules (NIST SP
/// 800-63B 5.1.1.2).
pub fn check_new(
    password: &Password,
    context: &PasswordContext<'_>,
) -> Result<(), PasswordRejected> {
    let chars = password.expose().chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordRejected::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordRejected::TooLong);
    }
    if is_common(password.expose()) {
        return Err(PasswordRejected::Common);
    }
    if is_context_specific(password.expose(), context) {
        return Err(PasswordRejected::ContextSpecific);
    }
    Ok(())
}

/// Letters and digits only, lower-cased: `Clinic A!` and `clinica` are the same word here.
fn folded(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_context_specific(password: &str, context: &PasswordContext<'_>) -> bool {
    let password = folded(password);
    let email = context.email.trim();
    let local_part = email.split('@').next().unwrap_or(email);
    [
        Some(email),
        Some(local_part),
        context.clinic_name,
        Some(SERVICE_NAME),
    ]
    .into_iter()
    .flatten()
    .map(folded)
    .filter(|word| !word.is_empty())
    .any(|word| {
        password == word || (word.chars().count() >= MIN_CONTEXT_WORD && password.contains(&word))
    })
}

fn is_common(password: &str) -> bool {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
    .contains(password.to_lowercase().as_str())
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

    fn check_new_anywhere(password: &Password) -> Result<(), PasswordRejected> {
        check_new(
            password,
            &PasswordContext {
                email: "clinician@clinic-a.example.org",
                clinic_name: Some("Synthetic Clinic A"),
            },
        )
    }

    #[test]
    fn passwords_built_from_the_account_or_the_service_are_refused() {
        let context = PasswordContext {
            email: "maria.synthetic@clinic-a.example.org",
            clinic_name: Some("Lakeside Synthetic Clinic"),
        };
        for built in [
            "maria.synthetic@clinic-a.example.org",
            "MARIA.SYNTHETIC@CLINIC-A.EXAMPLE.ORG",
            "maria.synthetic2024",
            "my Lakeside-Synthetic clinic!",
            format!("{SERVICE_NAME} forever and ever").as_str(),
        ] {
            assert_eq!(
                check_new(&Password::new(built), &context),
                Err(PasswordRejected::ContextSpecific),
                "{built}"
            );
        }
        assert_eq!(
            check_new(&Password::new("a quiet walk by the lake"), &context),
            Ok(())
        );
        // A two-letter local part is refused only as the whole password.
        let short = PasswordContext {
            email: "jo@clinic-a.example.org",
            clinic_name: None,
        };
        assert_eq!(
            check_new(&Password::new("enjoy long journeys"), &short),
            Ok(())
        );
    }

    #[test]
    fn length_is_the_only_composition_rule() {
        assert_eq!(
            check_new_anywhere(&Password::new("short-pass1")),
            Err(PasswordRejected::TooShort)
        );
        assert_eq!(
            check_new_anywhere(&Password::new("x".repeat(257))),
            Err(PasswordRejected::TooLong)
        );
        // No digits, no capitals, no symbols needed.
        assert_eq!(
            check_new_anywhere(&Password::new("plain lowercase words only")),
            Ok(())
        );
        assert_eq!(check_new_anywhere(&Password::new("ü".repeat(12))), Ok(()));
        assert_eq!(
            check_new_anywhere(&Password::new("x".repeat(MAX_CHARS))),
            Ok(())
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password1234",
            "QwErTy123456",
            "123qweasdzxc",
            "iloveyou1234",
        ] {
            assert_eq!(
                check_new_anywhere(&Password::new(common)),
                Err(PasswordRejected::Common),
                "{common}"
            );
        }
    }

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
