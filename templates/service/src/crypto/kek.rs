//! The key-encryption key (KEK): the one secret that unlocks every clinic's data keys.
//!
//! It comes from the key provider chosen when the project was generated
//! (`key_provider = file`) and is never written to the database: the database
//! holds only data keys wrapped (AES-256-GCM) under it, so a stolen dump or backup
//! without the KEK is ciphertext (HIPAA 164.312(a)(2)(iv)).
//!
//! Development runs on [`Kek::development`], a fixed, published key that protects
//! nothing; production refuses to start with it (OWASP ASVS V14.1).

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::{CryptoError, KEY_LEN, NONCE_LEN, random_bytes};

/// A wrapped key: a random nonce, then the key sealed under the KEK with its tag.
pub const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + 16;

/// A 256-bit key-encryption key. Its bytes never leave this type: not in `Debug`, not in
/// logs, not in the database; it is named by [`Kek::id`]. They are wiped when it is
/// dropped (NIST SP 800-57 Part 1: keys are destroyed once no longer needed).
#[derive(Clone, PartialEq, Eq, ZeroizeOnDrop)]
pub struct Kek {
    key: [u8; KEY_LEN],
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kek({})", self.id())
    }
}

impl Kek {
    /// The development key: derived from a public string, so anyone can compute it. Good
    /// for synthetic data on a laptop; refused in production.
    pub fn development() -> Self {
        Self {
            key: Sha256::digest(b"medforge development key-encryption key: synthetic data only")
                .into(),
        }
    }

    /// Whether this is [`Kek::development`].
    pub fn is_development(&self) -> bool {
        *self == Self::development()
    }

    /// A new random key (tests, and `generate-kek` for operators).
    pub fn generate() -> Result<Self, CryptoError> {
        // Filled in place: no copy of the key is left behind on the stack.
        let mut kek = Self { key: [0; KEY_LEN] };
        random_bytes(&mut kek.key)?;
        Ok(kek)
    }

    /// The key from its standard base64 form (44 characters), surrounding whitespace
    /// ignored.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| CryptoError::KekFormat)?,
        );
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::KekFormat);
        }
        let mut kek = Self { key: [0; KEY_LEN] };
        kek.key.copy_from_slice(&bytes);
        Ok(kek)
    }

    /// The key in standard base64, for the operator who stores it (`generate-kek`).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.key)
    }

    /// A name for this key that reveals nothing about it: the first 8 bytes of a
    /// domain-separated SHA-256, in hex. Stored beside each wrapped key, so the key ring
    /// knows which KEK unwraps it and `rotate-keys` which ones still need re-wrapping.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"medforge kek id\0")
            .chain_update(self.key)
            .finalize();
        digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// A key for `purpose` derived from this KEK (HMAC-SHA256 keyed by the KEK over a
    /// domain-separated label), for secrets that must live and die with it, such as the
    /// key of the audit checkpoints: whoever holds the database but not the KEK cannot
    /// forge one.
    pub fn derive(&self, purpose: &str) -> hmac::Hmac<Sha256> {
        use hmac::{KeyInit, Mac};
        let mut derivation = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        derivation.update(b"medforge derived key\0");
        derivation.update(purpose.as_bytes());
        let derived = zeroize::Zeroizing::new(<[u8; 32]>::from(derivation.finalize().into_bytes()));
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(derived.as_slice())
            .expect("HMAC takes a key of any length")
    }

    /// Seals `key` under this KEK, bound to `context` (the clinic, purpose and version):
    /// a wrapped key copied to another clinic or version does not unwrap.
    pub fn wrap(&self, key: &[u8; KEY_LEN], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let sealed = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: key,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut wrapped = Vec::with_capacity(WRAPPED_LEN);
        wrapped.extend_from_slice(&nonce);
        wrapped.extend_from_slice(&sealed);
        Ok(wrapped)
    }

    /// Opens a key [`wrap`](Self::wrap)ped under this KEK with the same `context`; it is
    /// wiped when the caller drops it.
    pub fn unwrap_key(
        &self,
        wrapped: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(CryptoError::Unwrap);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Unwrap)?;
        let opened = Zeroizing::new(
            self.cipher()
                .decrypt(
                    &nonce,
                    Payload {
                        msg: sealed,
                        aad: context,
                    },
                )
                .map_err(|_| CryptoError::Unwrap)?,
        );
        if opened.len() != KEY_LEN {
            return Err(CryptoError::Unwrap);
        }
        let mut key = Zeroizing::new([0; KEY_LEN]);
        key.copy_from_slice(&opened);
        Ok(key)
    }

    /// The AES key schedule of this KEK, keyed by reference (no copy of the key); it
    /// wipes itself when dropped (aes-gcm's `zeroize`).
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.key).into())
    }
}

/// The KEKs the service holds: the current one wraps every new data key; the previous
/// one, set only while a rotation is under way, still unwraps the data keys
/// `rotate-keys` has not re-wrapped yet. That is how the KEK changes without downtime:
/// deploy with both, run `rotate-keys`, then drop the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekRing {
    pub current: Kek,
    pub previous: Option<Kek>,
}

impl KekRing {
    /// The ring of one key.
    pub fn single(current: Kek) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// The KEK named `id`, if the ring holds it.
    pub fn by_id(&self, id: &str) -> Option<&Kek> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|kek| kek.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_open_only_with_their_kek_and_context() {
        let kek = Kek::generate().unwrap();
        let key = [42; KEY_LEN];
        let wrapped = kek.wrap(&key, b"clinic a/data/1").unwrap();
        assert_eq!(wrapped.len(), WRAPPED_LEN);
        assert_eq!(*kek.unwrap_key(&wrapped, b"clinic a/data/1").unwrap(), key);
        assert!(kek.unwrap_key(&wrapped, b"clinic b/data/1").is_err());
        let other = Kek::generate().unwrap();
        assert!(other.unwrap_key(&wrapped, b"clinic a/data/1").is_err());
    }

    #[test]
    fn the_key_never_shows_in_debug_and_round_trips_base64() {
        let kek = Kek::generate().unwrap();
        let text = kek.to_base64();
        assert_eq!(Kek::from_base64(&format!(" {text}\n")).unwrap(), kek);
        assert!(!format!("{kek:?}").contains(&text));
        assert_eq!(kek.id().len(), 16);
        assert!(Kek::from_base64("c2hvcnQ=").is_err());
        assert!(Kek::from_base64("not base64!").is_err());
    }

    #[test]
    fn the_development_key_is_recognised() {
        assert!(Kek::development().is_development());
        assert!(!Kek::generate().unwrap().is_development());
    }

    #[test]
    fn the_ring_finds_keys_by_id() {
        let current = Kek::generate().unwrap();
        let previous = Kek::generate().unwrap();
        let ring = KekRing {
            current: current.clone(),
            previous: Some(previous.clone()),
        };
        assert_eq!(ring.by_id(&current.id()), Some(&current));
        assert_eq!(ring.by_id(&previous.id()), Some(&previous));
        assert_eq!(KekRing::single(current).by_id(&previous.id()), None);
    }
}
