//! Which passwords are accepted (NIST SP 800-63B 5.1.1.2: a length range, a blocklist of
//! common passwords, nothing built from the account or the service; HIPAA 164.312(d)
//! person or entity authentication). Hashing them is `crate::crypto::password_hash`'s,
//! beneath this module and the state that holds the hasher.

use std::collections::HashSet;
use std::sync::OnceLock;

pub use crate::crypto::password_hash::{
    HashError, Password, PasswordHasher, Verification, needs_rehash,
};

/// Shortest password accepted, in characters. Length is the only composition rule.
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, in characters: long passphrases are welcome, but an
/// unbounded one would let a request buy unbounded hashing work.
pub const MAX_CHARS: usize = 256;

static COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

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
}
