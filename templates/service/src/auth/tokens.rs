//! Single-use secrets handed to a person out of band: invitation and password-reset tokens,
//! and recovery codes (NIST SP 800-63B §5.1.2 look-up secrets, §6.1.2.3 replacement;
//! OWASP ASVS V6.3).
//!
//! Every secret carries 256 bits from the operating system's CSPRNG and is stored as its
//! SHA-256 only, so a copy of the database lets nobody in. A token is a *selector* (the
//! row's id, found by index) and a *verifier*, whose hash is compared in constant time,
//! so the lookup's timing says nothing about the secret half. No type here implements
//! `Display` or prints its secret in `Debug`: a token reaches its holder once, in a
//! response body, and never a log line or a URL.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::crypto::hex;

/// A token as the database knows it: the selector, and the SHA-256 of the verifier.
pub struct TokenHash {
    pub selector: Uuid,
    pub verifier_hash: [u8; 32],
}

/// An invitation or password-reset token: 16 bytes of selector and 32 of verifier, sent as
/// 96 lower-case hex characters.
pub struct AccountToken {
    selector: Uuid,
    verifier: zeroize::Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountToken([redacted])")
    }
}

impl AccountToken {
    /// A fresh token from the CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut selector = [0u8; 16];
        let mut verifier = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut selector)?;
        getrandom::fill(verifier.as_mut())?;
        Ok(Self {
            // A version-4 UUID: 122 of the 128 bits random, so the id is a well-formed one.
            selector: uuid::Builder::from_random_bytes(selector).into_uuid(),
            verifier,
        })
    }

    /// The token a client presents, when it is well formed.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 96 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes = decode_hex(text)?;
        let selector = Uuid::from_slice(&bytes[..16]).ok()?;
        let mut verifier = zeroize::Zeroizing::new([0u8; 32]);
        verifier.copy_from_slice(&bytes[16..]);
        Some(Self { selector, verifier })
    }

    /// The row id the token's row is stored under.
    pub fn selector(&self) -> Uuid {
        self.selector
    }

    /// What the database stores.
    pub fn hashed(&self) -> TokenHash {
        TokenHash {
            selector: self.selector,
            verifier_hash: Sha256::digest(self.verifier.as_ref()).into(),
        }
    }

    /// Whether this token's verifier hashes to `stored`, compared in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        let hash: [u8; 32] = Sha256::digest(self.verifier.as_ref()).into();
        bool::from(hash.as_slice().ct_eq(stored))
    }

    /// The token as handed to its holder, once.
    pub fn reveal(&self) -> String {
        let mut text = hex(self.selector.as_bytes());
        text.push_str(&hex(self.verifier.as_ref()));
        text
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// How many recovery codes an account holds at a time.
pub const RECOVERY_CODES: usize = 10;

/// A recovery code: 256 bits, written as lower-case base32 in groups of four joined by
/// `-`. Typed back, case, spaces and dashes do not matter.
pub struct RecoveryCode(zeroize::Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// A fresh code from the CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())?;
        let encoded = totp_rs::Secret::from(bytes.to_vec())
            .to_base32()
            .to_ascii_lowercase();
        let grouped: Vec<&str> = encoded
            .as_bytes()
            .chunks(4)
            .filter_map(|chunk| std::str::from_utf8(chunk).ok())
            .collect();
        Ok(Self(zeroize::Zeroizing::new(grouped.join("-"))))
    }

    /// The code as shown to its owner, once.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The SHA-256 stored for `code` as typed, or `None` when it cannot be a recovery code
    /// (a TOTP code, for one).
    pub fn hash_of(code: &str) -> Option<[u8; 32]> {
        let canonical: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        let is_base32 = canonical
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        (canonical.len() == 52 && is_base32).then(|| Sha256::digest(canonical.as_bytes()).into())
    }

    /// What the database stores for this code.
    pub fn hash(&self) -> [u8; 32] {
        Self::hash_of(&self.0).unwrap_or_default()
    }
}

/// Which of `stored` (id, hash) is the code typed, comparing every one in constant time.
pub fn find_recovery_code(typed: &[u8; 32], stored: &[(Uuid, Vec<u8>)]) -> Option<Uuid> {
    let mut found = None;
    for (id, hash) in stored {
        if bool::from(typed.as_slice().ct_eq(hash)) {
            found = Some(*id);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_parse_back() {
        let token = AccountToken::generate().unwrap();
        let text = token.reveal();
        assert_eq!(text.len(), 96);
        let parsed = AccountToken::parse(&text).unwrap();
        assert_eq!(parsed.selector(), token.selector());
        assert!(parsed.matches(&token.hashed().verifier_hash));
        assert_eq!(format!("{token:?}"), "AccountToken([redacted])");
        assert!(!text.contains(&hex(&token.hashed().verifier_hash)));
    }

    #[test]
    fn a_changed_verifier_does_not_match() {
        let token = AccountToken::generate().unwrap();
        let mut text = token.reveal();
        let last = if text.ends_with('0') { "1" } else { "0" };
        text.replace_range(95.., last);
        let forged = AccountToken::parse(&text).unwrap();
        assert!(!forged.matches(&token.hashed().verifier_hash));
        assert!(AccountToken::parse("not a token").is_none());
        assert!(AccountToken::parse(&text[..94]).is_none());
    }

    #[test]
    fn recovery_codes_are_256_bits_and_typed_back_loosely() {
        let code = RecoveryCode::generate().unwrap();
        assert_eq!(code.reveal().replace('-', "").len(), 52);
        assert_ne!(code.reveal(), RecoveryCode::generate().unwrap().reveal());
        let typed = code.reveal().to_uppercase().replace('-', " ");
        assert_eq!(RecoveryCode::hash_of(&typed), Some(code.hash()));
        assert_eq!(RecoveryCode::hash_of("123456"), None);
        let stored = vec![(Uuid::nil(), code.hash().to_vec())];
        assert_eq!(find_recovery_code(&code.hash(), &stored), Some(Uuid::nil()));
        assert_eq!(find_recovery_code(&[0; 32], &stored), None);
        assert_eq!(format!("{code:?}"), "RecoveryCode([redacted])");
    }
}
