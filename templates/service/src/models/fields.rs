//! The field types of the resources added with `medforge add resource` (README.md, "Adding
//! a resource"), and the one way each goes into its column and comes back: a PHI field is
//! sealed with the clinic's data key, bound to its clinic, table, column and row
//! (`crate::crypto`, HIPAA 164.312(a)(2)(iv)); any other field is checked and stored as it
//! is. An optional field is an `Option` of its type, with the same rules. [`Synthetic`]
//! makes the values `seed` fills them with.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use phi_guard::Phi;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::crypto::{ClinicKeys, CryptoError, Field};
use crate::error::ApiError;

/// The longest text field, in characters.
pub const MAX_TEXT: usize = 10_000;

/// A value of one of the field types, as text: what a PHI column seals.
pub trait FieldValue: Sized {
    /// Why the value is refused, if it is.
    fn check(&self) -> Result<(), &'static str> {
        Ok(())
    }
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Option<Self>;
}

impl FieldValue for String {
    fn check(&self) -> Result<(), &'static str> {
        if self.trim().is_empty() {
            Err("must not be blank")
        } else if self.chars().count() > MAX_TEXT {
            Err("must be at most 10000 characters")
        } else {
            Ok(())
        }
    }

    fn to_text(&self) -> String {
        self.clone()
    }

    fn from_text(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

impl FieldValue for NaiveDate {
    fn to_text(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }

    fn from_text(text: &str) -> Option<Self> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }
}

impl FieldValue for DateTime<Utc> {
    fn to_text(&self) -> String {
        self.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    fn from_text(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }
}

impl FieldValue for i64 {
    fn to_text(&self) -> String {
        self.to_string()
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FieldValue for bool {
    fn to_text(&self) -> String {
        self.to_string()
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FieldValue for Decimal {
    fn to_text(&self) -> String {
        self.0.clone()
    }

    fn from_text(text: &str) -> Option<Self> {
        Decimal::parse(text)
    }
}

/// A field's value as its column holds it: ciphertext for a PHI field, the value itself
/// (its text for codes and decimals) for any other. Both come as `Option`, so that
/// optional and required fields bind alike; the table's `NOT NULL` holds the required.
pub trait Column: Sized {
    /// What a plaintext column stores.
    type Plain;

    /// The ciphertext of the value for `field` of the record `row`, once it is valid.
    fn seal(&self, keys: &ClinicKeys, field: Field, row: Uuid)
    -> Result<Option<Vec<u8>>, ApiError>;

    /// The value as a plaintext column stores it, once it is valid.
    fn plain(&self, field: Field) -> Result<Option<Self::Plain>, ApiError>;

    /// Opens what [`seal`](Self::seal) stored; a value altered, or moved from another row
    /// or column, fails.
    fn open(
        keys: &ClinicKeys,
        field: Field,
        row: Uuid,
        sealed: impl Into<Option<Vec<u8>>>,
    ) -> Result<Self, CryptoError>;

    /// Reads what [`plain`](Self::plain) stored.
    fn read(stored: impl Into<Option<Self::Plain>>) -> Result<Self, CryptoError>;
}

/// How a value of each type is stored in a plaintext column.
pub trait PlainValue: FieldValue {
    type Plain;
    fn to_plain(&self) -> Self::Plain;
    fn from_plain(plain: Self::Plain) -> Option<Self>;
}

macro_rules! stored_as_itself {
    ($($type:ty),*) => {
        $(impl PlainValue for $type {
            type Plain = $type;

            fn to_plain(&self) -> $type {
                self.clone()
            }

            fn from_plain(plain: $type) -> Option<Self> {
                Some(plain)
            }
        })*
    };
}

stored_as_itself!(String, NaiveDate, DateTime<Utc>, i64, bool);

impl PlainValue for Decimal {
    // Bound as text and cast to `numeric` in the query, read back as `numeric::text`.
    type Plain = String;

    fn to_plain(&self) -> String {
        self.0.clone()
    }

    fn from_plain(plain: String) -> Option<Self> {
        Decimal::parse(&plain)
    }
}

fn checked<T: FieldValue>(value: &T, field: Field) -> Result<(), ApiError> {
    value
        .check()
        .map_err(|rule| ApiError::invalid_field(field.column, rule))
}

impl<T: PlainValue> Column for T {
    type Plain = T::Plain;

    fn seal(
        &self,
        keys: &ClinicKeys,
        field: Field,
        row: Uuid,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        checked(self, field)?;
        Ok(Some(keys.seal_text(field, row, &self.to_text())?))
    }

    fn plain(&self, field: Field) -> Result<Option<T::Plain>, ApiError> {
        checked(self, field)?;
        Ok(Some(self.to_plain()))
    }

    fn open(
        keys: &ClinicKeys,
        field: Field,
        row: Uuid,
        sealed: impl Into<Option<Vec<u8>>>,
    ) -> Result<Self, CryptoError> {
        let sealed = sealed.into().ok_or(CryptoError::Format)?;
        T::from_text(&keys.open_text(field, row, &sealed)?).ok_or(CryptoError::Format)
    }

    fn read(stored: impl Into<Option<T::Plain>>) -> Result<Self, CryptoError> {
        stored
            .into()
            .and_then(T::from_plain)
            .ok_or(CryptoError::Format)
    }
}

impl<T: PlainValue> Column for Option<T> {
    type Plain = T::Plain;

    fn seal(
        &self,
        keys: &ClinicKeys,
        field: Field,
        row: Uuid,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        match self {
            Some(value) => value.seal(keys, field, row),
            None => Ok(None),
        }
    }

    fn plain(&self, field: Field) -> Result<Option<T::Plain>, ApiError> {
        match self {
            Some(value) => value.plain(field),
            None => Ok(None),
        }
    }

    fn open(
        keys: &ClinicKeys,
        field: Field,
        row: Uuid,
        sealed: impl Into<Option<Vec<u8>>>,
    ) -> Result<Self, CryptoError> {
        sealed
            .into()
            .map(|sealed| T::open(keys, field, row, sealed))
            .transpose()
    }

    fn read(stored: impl Into<Option<T::Plain>>) -> Result<Self, CryptoError> {
        stored.into().map(T::read).transpose()
    }
}

/// The ciphertext a PATCH writes for a PHI field it names (`None` when it leaves the field
/// alone or clears it: the query tells the two apart by whether the field was present).
pub fn sealed_change<T: Column>(
    keys: &ClinicKeys,
    field: Field,
    row: Uuid,
    change: &Option<Phi<T>>,
) -> Result<Option<Vec<u8>>, ApiError> {
    match change {
        Some(value) => value.expose().seal(keys, field, row),
        None => Ok(None),
    }
}

/// The value a PATCH writes for a plaintext field it names.
pub fn plain_change<T: Column>(
    field: Field,
    change: &Option<T>,
) -> Result<Option<T::Plain>, ApiError> {
    match change {
        Some(value) => value.plain(field),
        None => Ok(None),
    }
}

/// A decimal number, exchanged as text so that no digit is lost to floating point
/// (`"12.5"`, `"-0.25"`): up to 18 digits before the point and 6 after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decimal(String);

impl Decimal {
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        let valid = (1..=18).contains(&whole.len())
            && all_digits(whole)
            && fraction.len() <= 6
            && all_digits(fraction)
            && !(digits.contains('.') && fraction.is_empty());
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The message names the rule, never the value.
        Decimal::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(
                "expected a decimal number as text, up to 18 digits and 6 decimals",
            )
        })
    }
}

/// A synthetic value for `seed` (HIPAA 164.308(a)(1)(ii)(B): no real PHI outside
/// production): text says it is synthetic, the rest is drawn from the seeded generator.
pub trait Synthetic {
    /// The value of field `label` of the `number`-th record.
    fn synthetic(rng: &mut ChaCha8Rng, number: usize, label: &str) -> Self;
}

impl Synthetic for String {
    fn synthetic(_: &mut ChaCha8Rng, number: usize, label: &str) -> Self {
        format!("Synthetic {label} {number}")
    }
}

impl Synthetic for NaiveDate {
    fn synthetic(rng: &mut ChaCha8Rng, _: usize, _: &str) -> Self {
        let origin = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
        origin + Duration::days(rng.random_range(0..3650))
    }
}

impl Synthetic for DateTime<Utc> {
    fn synthetic(rng: &mut ChaCha8Rng, number: usize, label: &str) -> Self {
        let day = NaiveDate::synthetic(rng, number, label);
        day.and_hms_opt(8, 0, 0).unwrap_or_default().and_utc()
            + Duration::minutes(rng.random_range(0..600))
    }
}

impl Synthetic for i64 {
    fn synthetic(rng: &mut ChaCha8Rng, _: usize, _: &str) -> Self {
        rng.random_range(1..1000)
    }
}

impl Synthetic for bool {
    fn synthetic(rng: &mut ChaCha8Rng, _: usize, _: &str) -> Self {
        rng.random_range(0..2) == 1
    }
}

impl Synthetic for Decimal {
    fn synthetic(rng: &mut ChaCha8Rng, _: usize, _: &str) -> Self {
        let whole: u32 = rng.random_range(0..1000);
        let cents: u32 = rng.random_range(0..100);
        Decimal(format!("{whole}.{cents:02}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_text_within_bounds() {
        for good in ["0", "12.5", "-0.25", "123456789012345678.123456"] {
            assert!(Decimal::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "-",
            "1.",
            ".5",
            "1e3",
            "1,5",
            "1234567890123456789",
            "0.1234567",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn values_round_trip_through_their_text() {
        let date = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
        assert_eq!(NaiveDate::from_text(&date.to_text()), Some(date));
        let at = DateTime::parse_from_rfc3339("2030-01-02T09:30:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(<DateTime<Utc>>::from_text(&at.to_text()), Some(at));
        assert_eq!(i64::from_text(&(-42i64).to_text()), Some(-42));
        assert_eq!(bool::from_text(&true.to_text()), Some(true));
    }

    #[test]
    fn text_is_neither_blank_nor_unbounded() {
        assert!(" ".to_owned().check().is_err());
        assert!("x".repeat(MAX_TEXT + 1).check().is_err());
        assert!("x".repeat(MAX_TEXT).check().is_ok());
    }
}
