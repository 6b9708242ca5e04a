//! TOTP second factor (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of clock
//! skew either way), read against the injected clock. Each accepted code's time step is
//! stored, so a code works once (RFC 6238 section 5.2). NIST SP 800-63B; HIPAA 164.312(d).

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Bytes of a new shared secret: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;

/// Who issues the codes, as authenticator apps show it.
pub const ISSUER: &str = crate::policy::PROJECT_NAME;

/// A new random shared secret.
pub fn new_secret() -> Result<Vec<u8>, getrandom::Error> {
    let mut secret = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)?;
    Ok(secret)
}

fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

fn unix_seconds(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// The time step of `code` if it is valid at `now` and newer than `last_step`, the step
/// of the last code this account used.
pub fn accept(
    secret: &[u8],
    code: &str,
    now: DateTime<Utc>,
    last_step: Option<i64>,
) -> Option<i64> {
    let step = totp(secret, "account")?.check(code.trim(), unix_seconds(now))?;
    let step = i64::try_from(step).ok()?;
    (last_step.is_none_or(|last| step > last)).then_some(step)
}

/// The code valid at `at`: for tests, the benchmark and the development accounts.
pub fn code_at(secret: &[u8], at: DateTime<Utc>) -> String {
    totp(secret, "account")
        .map(|totp| totp.generate(unix_seconds(at)).to_string())
        .unwrap_or_default()
}

/// The secret in base32, as authenticator apps take it typed in.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The secret of a base32 string, as [`secret_base32`] writes it.
pub fn decode_base32(secret: &str) -> Option<Vec<u8>> {
    Secret::try_from_base32(secret.trim())
        .ok()
        .map(|secret| secret.as_bytes().to_vec())
}

/// An `otpauth://` URI for enrolling `account` in an authenticator app (as a QR code).
pub fn provisioning_uri(secret: &[u8], account: &str) -> String {
    totp(secret, account)
        .and_then(|totp| totp.to_url().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn secret() -> Vec<u8> {
        (1..=20).collect()
    }

    #[test]
    fn current_and_adjacent_codes_are_accepted_once() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 10).unwrap();
        let code = code_at(&secret(), now);
        assert_eq!(code.len(), 6);
        let step = accept(&secret(), &code, now, None).expect("valid now");
        assert_eq!(accept(&secret(), &code, now, Some(step)), None, "replayed");
        assert!(accept(&secret(), &code, now + Duration::seconds(30), None).is_some());
        assert_eq!(
            accept(&secret(), &code, now + Duration::seconds(90), None),
            None
        );
    }

    #[test]
    fn wrong_and_malformed_codes_are_refused() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        let code = code_at(&secret(), now);
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(accept(&secret(), &wrong, now, None), None);
        assert_eq!(accept(&secret(), "abcdef", now, None), None);
        assert_eq!(accept(&secret(), "", now, None), None);
    }

    #[test]
    fn enrollment_uri_names_the_issuer() {
        let uri = provisioning_uri(&secret(), "clinician@clinic-a.example.org");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&secret_base32(&secret())), "{uri}");
    }
}
