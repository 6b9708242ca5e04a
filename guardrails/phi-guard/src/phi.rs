//! The [`Phi`] wrapper and the traits that make formatting or serializing it a compile error.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Protected health information: a value that must not reach a log line, a URL, an error
/// message or any serialized form other than an API response body.
///
/// `Phi<T>` has `Display`, `Debug` and `Serialize` impls whose where-clause can never hold, so
/// every attempt to format or serialize it fails to compile with a message that says PHI.
/// Reading the value is an explicit, greppable call: [`Phi::expose`], [`Phi::expose_mut`],
/// [`Phi::into_exposed`] or [`Phi::map_exposed`].
///
/// It deserializes like `T`, so request bodies can carry PHI; a value that fails to
/// deserialize is reported without echoing the input.
///
/// Comparing (`==`) and hashing are compile errors too: a logged equality bit or hash of a
/// date of birth gives the date away. Compare the exposed values instead.
#[repr(transparent)]
#[derive(Clone, Copy, Default)]
pub struct Phi<T>(T);

impl<T> Phi<T> {
    /// Wraps a value that is, or may be, PHI.
    pub const fn new(value: T) -> Self {
        Phi(value)
    }

    /// Reads the PHI. Every call is a place where PHI leaves the guardrails' protection:
    /// keep the result out of logs, URLs and error messages.
    #[must_use]
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Mutable access to the PHI, e.g. to normalize it in place.
    #[must_use]
    pub const fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Unwraps the PHI; as with [`Phi::expose`], the value is then unprotected.
    #[must_use]
    pub fn into_exposed(self) -> T {
        self.0
    }

    /// Transforms the value without taking it out of the wrapper. The closure gets the raw
    /// PHI, so this reads it like [`Phi::expose`] and is named to be found by the same grep.
    pub fn map_exposed<U>(self, f: impl FnOnce(T) -> U) -> Phi<U> {
        Phi(f(self.0))
    }

    /// A trap: `phi.map(|value| ...)` would hand the closure the raw PHI with no `expose`
    /// in sight, so it fails (through the never-met bound) with a message pointing to
    /// [`Phi::map_exposed`].
    #[doc(hidden)]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Phi<U>
    where
        T: PhiMustBeReadExplicitly,
    {
        self.map_exposed(f)
    }

    /// Shadows `ToString::to_string` so that `phi.to_string()` fails with the PHI message
    /// (through the never-met bound) instead of rustc's generic "method cannot be called".
    #[allow(
        clippy::inherent_to_string_shadow_display,
        reason = "a trap: this method can never be called"
    )]
    #[doc(hidden)]
    pub fn to_string(&self) -> String
    where
        T: PhiMustNotBeFormatted,
    {
        String::from(REDACTED)
    }

    /// Shadows `Hash::hash` so that `phi.hash(&mut hasher)` fails with the PHI message
    /// (through the never-met bound) instead of rustc's "trait bounds were not satisfied".
    #[allow(
        clippy::should_implement_trait,
        reason = "a trap: this method can never be called"
    )]
    #[doc(hidden)]
    pub fn hash<H: Hasher>(&self, state: &mut H)
    where
        T: Hash + PhiMustBeReadExplicitly,
    {
        Hash::hash(self, state);
    }

    /// Borrows the value as a `Phi<&T>`, still protected.
    pub const fn as_ref(&self) -> Phi<&T> {
        Phi(&self.0)
    }
}

impl<T> From<T> for Phi<T> {
    fn from(value: T) -> Self {
        Phi(value)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Never implemented: `Display` and `Debug` for `Phi<T>` require `T: PhiMustNotBeFormatted`,
/// so formatting PHI is a compile error that carries this trait's message.
///
/// The bound is on `T`, not on `Phi<T>`: when the failing bound has the same self type as
/// the `Display` requirement, rustc reports `Display`'s own message instead of this one.
#[diagnostic::on_unimplemented(
    message = "PHI must not be formatted: this `Phi<{Self}>` holds protected health information",
    label = "PHI: cannot be formatted with `{{}}` or `{{:?}}`, logged, traced or put in a panic message",
    note = "read it explicitly with `.expose()` where it is really needed, or log an opaque id instead",
    note = "for `Debug` on a type that holds PHI, use `#[derive(phi_guard::RedactedDebug)]`; for `#[tracing::instrument]`, `skip` the PHI argument"
)]
pub trait PhiMustNotBeFormatted: sealed::Sealed {}

/// Never implemented: `Serialize` for `Phi<T>` requires `T: PhiMustNotBeSerialized`, and for
/// a `#[derive(PhiResponse)]` type `R` requires `ResponseOnly<'_, R>: PhiMustNotBeSerialized`,
/// so serializing PHI anywhere but an API response body is a compile error.
#[diagnostic::on_unimplemented(
    message = "PHI must not be serialized outside an API response body",
    label = "this value is or holds PHI; it has no usable `Serialize` impl",
    note = "return it from a handler as `phi_guard::PhiJson(value)`, where the struct derives `PhiResponse`: its `Phi` fields are written only there",
    note = "to store or send PHI elsewhere, read it explicitly with `.expose()` where that is really intended"
)]
pub trait PhiMustNotBeSerialized: sealed::Sealed {}

/// Never implemented: `PartialEq`, `Eq` and `Hash` for `Phi<T>`, and the `Phi::map` trap,
/// require `T: PhiMustBeReadExplicitly`, so comparing, hashing or mapping PHI without an
/// `expose` in the code is a compile error that carries this trait's message.
#[diagnostic::on_unimplemented(
    message = "PHI must be read explicitly: this `Phi<{Self}>` holds protected health information",
    label = "PHI: cannot be compared, hashed or mapped without `.expose()`",
    note = "comparing, hashing or transforming PHI reads it: an equality result or a hash of PHI is PHI too (the hash of a date of birth is undone by trying every date)",
    note = "where that is really needed, write `a.expose() == b.expose()` or `.map_exposed(|value| ...)`; look patients up by a keyed blind index, not by `Hash`"
)]
pub trait PhiMustBeReadExplicitly: sealed::Sealed {}

impl<T> PartialEq for Phi<T>
where
    T: PartialEq + PhiMustBeReadExplicitly,
{
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Eq for Phi<T> where T: Eq + PhiMustBeReadExplicitly {}

impl<T> Hash for Phi<T>
where
    T: Hash + PhiMustBeReadExplicitly,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<T> fmt::Display for Phi<T>
where
    T: PhiMustNotBeFormatted,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Debug for Phi<T>
where
    T: PhiMustNotBeFormatted,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Phi<T>
where
    T: PhiMustNotBeSerialized,
{
    fn serialize<S: Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "PHI must not be serialized outside an API response body",
        ))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Phi<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A deserializer's error quotes the offending input ("invalid type: string \"...\""),
        // and rejections end up in responses and logs: report the failure, not the value.
        // "missing field `name`" names only the field, so it is kept.
        T::deserialize(deserializer).map(Phi).map_err(|error| {
            if error.to_string().starts_with("missing field `") {
                error
            } else {
                serde::de::Error::custom("invalid value in a PHI field (not shown)")
            }
        })
    }
}

/// `#[derive(PhiResponse)]` gives its type `T` a `Serialize` impl bounded by
/// `ResponseOnly<'a, T>: PhiMustNotBeSerialized`. The lifetime keeps the never-true bound from
/// being rejected as trivially false where the impl is written; it fails where it is used.
#[doc(hidden)]
pub struct ResponseOnly<'a, T: ?Sized>(std::marker::PhantomData<fn(&'a (), &T)>);

/// `#[derive(RedactedDebug)]` passes each unredacted field through here, so a field that
/// cannot be formatted is reported at the field.
#[doc(hidden)]
pub fn debug_field<T: fmt::Debug + ?Sized>(value: &T) -> &T {
    value
}

/// What a redacted PHI value prints as, in [`Redacted`] and `#[derive(RedactedDebug)]`.
pub const REDACTED: &str = "[PHI redacted]";

/// Formats as `[PHI redacted]` with `Display` and `Debug`; `#[derive(RedactedDebug)]` prints
/// it in place of every PHI field.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Redacted;

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        name: Phi<String>,
        age: Phi<u8>,
    }

    #[test]
    fn request_body_with_phi_fields_deserializes() {
        let body: Body = serde_json::from_str(r#"{"name":"Synthetic Person","age":42}"#).unwrap();
        assert_eq!(body.name.expose(), "Synthetic Person");
        assert_eq!(body.age.into_exposed(), 42);
    }

    #[test]
    fn deserialize_error_does_not_echo_the_input() {
        let err =
            serde_json::from_str::<Body>(r#"{"name":"Synthetic Person","age":"Synthetic Age"}"#)
                .err()
                .unwrap()
                .to_string();
        assert!(!err.contains("Synthetic Age"), "{err}");
        assert!(err.contains("PHI field"), "{err}");
    }

    #[test]
    fn missing_phi_field_is_named() {
        let err = serde_json::from_str::<Body>(r#"{"age":42}"#).err().unwrap();
        assert!(err.to_string().starts_with("missing field `name`"), "{err}");
    }

    #[test]
    fn map_and_as_ref_keep_the_value_wrapped() {
        let name = Phi::new(String::from(" Synthetic ")).map_exposed(|s| s.trim().to_owned());
        let borrowed: Phi<&String> = name.as_ref();
        assert_eq!(*borrowed.expose(), "Synthetic");
    }

    #[derive(crate::RedactedDebug)]
    #[expect(dead_code, reason = "only printed, like std's derived Debug")]
    struct Visit {
        ward: u32,
        reason: Phi<String>,
        notes: Option<Phi<String>>,
    }

    #[test]
    fn redacted_debug_prints_phi_fields_as_a_placeholder() {
        let visit = Visit {
            ward: 3,
            reason: Phi::new("synthetic reason".into()),
            notes: None,
        };
        let printed = format!("{visit:?}");
        assert_eq!(
            printed,
            "Visit { ward: 3, reason: [PHI redacted], notes: [PHI redacted] }"
        );
        assert!(format!("{visit:#?}").contains("    reason: [PHI redacted],\n"));
    }

    #[test]
    fn redacted_prints_a_placeholder() {
        assert_eq!(
            format!("{Redacted} {Redacted:?}"),
            "[PHI redacted] [PHI redacted]"
        );
    }
}
