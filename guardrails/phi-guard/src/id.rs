//! Opaque identifiers: what goes in URLs and logs instead of PHI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::url::UrlSafe;

/// A 128-bit opaque identifier in UUID text form (`6f9619ff-8b86-d011-b42d-00c04fc964ff`).
///
/// It carries no meaning (generate it randomly, e.g. with PostgreSQL's `gen_random_uuid()`),
/// so it is [`UrlSafe`], may be logged, and is written as a string in JSON. The crate keeps no
/// `uuid` dependency: convert with [`OpaqueId::from_bytes`] and [`OpaqueId::as_bytes`].
/// For one type per resource, see [`opaque_id!`](crate::opaque_id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpaqueId([u8; 16]);

impl OpaqueId {
    /// The id with these 16 bytes (big-endian, as in a UUID).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        OpaqueId(bytes)
    }

    /// The 16 bytes of the id.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The id as one 128-bit number.
    pub const fn as_u128(&self) -> u128 {
        u128::from_be_bytes(self.0)
    }

    /// The id with this 128-bit value.
    pub const fn from_u128(value: u128) -> Self {
        OpaqueId(value.to_be_bytes())
    }
}

/// Where the hyphens sit in the text form.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

impl fmt::Display for OpaqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for OpaqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpaqueId({self})")
    }
}

/// The text was not an id in UUID form. The message does not repeat the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOpaqueIdError;

impl fmt::Display for ParseOpaqueIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an id of the form 6f9619ff-8b86-d011-b42d-00c04fc964ff")
    }
}

impl std::error::Error for ParseOpaqueIdError {}

impl FromStr for OpaqueId {
    type Err = ParseOpaqueIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.as_bytes();
        if text.len() != 36 || HYPHENS.iter().any(|&i| text[i] != b'-') {
            return Err(ParseOpaqueIdError);
        }
        let mut digits = text.iter().filter(|&&c| c != b'-');
        let mut bytes = [0u8; 16];
        for byte in &mut bytes {
            let (Some(&high), Some(&low)) = (digits.next(), digits.next()) else {
                return Err(ParseOpaqueIdError);
            };
            *byte = hex_value(high)? << 4 | hex_value(low)?;
        }
        Ok(OpaqueId(bytes))
    }
}

fn hex_value(digit: u8) -> Result<u8, ParseOpaqueIdError> {
    char::from(digit)
        .to_digit(16)
        .map(|value| value as u8)
        .ok_or(ParseOpaqueIdError)
}

impl Serialize for OpaqueId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OpaqueId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = OpaqueId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id of the form 6f9619ff-8b86-d011-b42d-00c04fc964ff")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<OpaqueId, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

impl UrlSafe for OpaqueId {}

/// Declares a typed opaque id (`PatientId`, `EncounterId`, …) over [`OpaqueId`], so ids of
/// different resources cannot be mixed up. It is `UrlSafe`, `Display`, `Debug`, `FromStr`,
/// serializes as a string and may be written in a response body.
///
/// ```
/// phi_guard::opaque_id! {
///     /// Identifies a patient in URLs and logs.
///     pub struct PatientId;
/// }
///
/// let id: PatientId = "6f9619ff-8b86-d011-b42d-00c04fc964ff".parse().unwrap();
/// assert_eq!(format!("{id:?}"), "PatientId(6f9619ff-8b86-d011-b42d-00c04fc964ff)");
/// ```
#[macro_export]
macro_rules! opaque_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $crate::OpaqueId);

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::write!(f, "{}({})", ::core::stringify!($name), self.0)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::ParseOpaqueIdError;

            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }

        impl ::core::convert::From<$crate::OpaqueId> for $name {
            fn from(id: $crate::OpaqueId) -> Self {
                $name(id)
            }
        }

        impl ::core::convert::From<$name> for $crate::OpaqueId {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&self.0, serializer)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$crate::OpaqueId as $crate::__private::serde::Deserialize<'de>>::deserialize(
                    deserializer,
                )
                .map($name)
            }
        }

        impl $crate::UrlSafe for $name {}

        impl $crate::ResponseBody for $name {
            fn serialize_body<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
                token: $crate::ResponseToken,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::ResponseBody::serialize_body(&self.0, serializer, token)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

    #[test]
    fn text_form_round_trips() {
        let id: OpaqueId = TEXT.parse().unwrap();
        assert_eq!(id.to_string(), TEXT);
        assert_eq!(id.as_bytes()[0], 0x6f);
        assert_eq!(OpaqueId::from_u128(id.as_u128()), id);
        assert_eq!(TEXT.to_uppercase().parse::<OpaqueId>(), Ok(id));
    }

    #[test]
    fn malformed_ids_are_refused_without_echo() {
        for bad in [
            "",
            "6f9619ff8b86d011b42d00c04fc964ff",
            "6f9619ff-8b86-d011-b42d-00c04fc964fg",
            "6f9619ff-8b86-d011-b42d_00c04fc964ff",
            "6f9619ff-8b86-d011-b42d-00c04fc964ffff",
            "+f9619ff-8b86-d011-b42d-00c04fc964ff",
        ] {
            assert_eq!(bad.parse::<OpaqueId>(), Err(ParseOpaqueIdError), "{bad}");
        }
        let err = serde_json::from_str::<OpaqueId>(r#""Synthetic Name""#).unwrap_err();
        assert!(!err.to_string().contains("Synthetic"), "{err}");
    }

    #[test]
    fn serializes_as_a_string() {
        let id: OpaqueId = TEXT.parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<OpaqueId>(&json).unwrap(), id);
    }

    crate::opaque_id! {
        /// A typed id for the test.
        pub struct PatientId;
    }

    #[test]
    fn typed_ids_format_and_parse() {
        let id: PatientId = TEXT.parse().unwrap();
        assert_eq!(id.to_string(), TEXT);
        assert_eq!(format!("{id:?}"), format!("PatientId({TEXT})"));
        assert_eq!(OpaqueId::from(id), id.0);
    }
}
