//! [`UrlSafe`]: what may appear in a path, a query string or a URL the service builds.

use std::fmt::{self, Write as _};

/// Marks a type whose values hold no PHI and so may appear in a URL.
///
/// URLs end up in access logs, proxies, browser history and `Referer` headers, so only
/// opaque identifiers, paging numbers and flags belong there. `String` is deliberately not
/// `UrlSafe`: free text is where names and record numbers hide.
///
/// `#[derive(UrlSafe)]` requires every field to be `UrlSafe`, so a struct holding a
/// [`Phi`](crate::Phi) value cannot derive it. A hand-written `impl UrlSafe` is the explicit
/// escape hatch for e.g. an opaque cursor string; keep those rare and reviewed.
#[diagnostic::on_unimplemented(
    message = "PHI must not be placed in a URL: `{Self}` is not `UrlSafe`",
    label = "may hold PHI; cannot go in a path, a query string or a built URL",
    note = "URLs end up in access logs, proxies, browser history and Referer headers",
    note = "put an opaque id (e.g. `phi_guard::OpaqueId`) in the URL and send PHI in the JSON request body",
    note = "for a type of your own that holds no PHI, `#[derive(UrlSafe)]` checks every field"
)]
pub trait UrlSafe {}

macro_rules! url_safe {
    ($($ty:ty),* $(,)?) => { $(impl UrlSafe for $ty {})* };
}

url_safe!(
    bool, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

impl<T: UrlSafe> UrlSafe for Option<T> {}
impl<T: UrlSafe + ?Sized> UrlSafe for &T {}

macro_rules! url_safe_tuple {
    ($($name:ident),+) => { impl<$($name: UrlSafe),+> UrlSafe for ($($name,)+) {} };
}

url_safe_tuple!(A);
url_safe_tuple!(A, B);
url_safe_tuple!(A, B, C);
url_safe_tuple!(A, B, C, D);

/// A URL built only from a fixed base and [`UrlSafe`] parts, so PHI cannot be placed in a
/// redirect, a `Location` header or an outbound request URL.
///
/// ```
/// use phi_guard::{OpaqueId, SafeUrl};
///
/// let id: OpaqueId = "6f9619ff-8b86-d011-b42d-00c04fc964ff".parse().unwrap();
/// let url = SafeUrl::new("/patients").segment(id).query("page", 2u32);
/// assert_eq!(url.as_str(), "/patients/6f9619ff-8b86-d011-b42d-00c04fc964ff?page=2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SafeUrl {
    url: String,
    query_started: bool,
}

impl SafeUrl {
    /// Starts from a base written in the source (`"/patients"`, `"https://api.example/v1"`).
    /// Taking `&'static str` keeps runtime strings, which may hold PHI, out of the base.
    pub fn new(base: &'static str) -> Self {
        let query_started = base.contains('?');
        SafeUrl {
            url: base.to_owned(),
            query_started,
        }
    }

    /// Appends `/value`, percent-encoded. Segments added after a query go before it.
    #[must_use]
    pub fn segment<T: UrlSafe + fmt::Display>(mut self, value: T) -> Self {
        let insert_at = self.url.find('?').unwrap_or(self.url.len());
        let mut segment = String::from("/");
        percent_encode_into(&mut segment, &value);
        if self.url[..insert_at].ends_with('/') {
            segment.remove(0);
        }
        self.url.insert_str(insert_at, &segment);
        self
    }

    /// Appends `key=value` to the query string, both percent-encoded.
    #[must_use]
    pub fn query<T: UrlSafe + fmt::Display>(mut self, key: &'static str, value: T) -> Self {
        self.url.push(if self.query_started { '&' } else { '?' });
        self.query_started = true;
        percent_encode_into(&mut self.url, &key);
        self.url.push('=');
        percent_encode_into(&mut self.url, &value);
        self
    }

    /// The URL built so far.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL as an owned string.
    pub fn into_string(self) -> String {
        self.url
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl fmt::Debug for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SafeUrl").field(&self.url).finish()
    }
}

impl AsRef<str> for SafeUrl {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

impl From<SafeUrl> for String {
    fn from(url: SafeUrl) -> Self {
        url.url
    }
}

/// Writes `value`'s `Display` output, keeping only RFC 3986 unreserved characters as they are.
fn percent_encode_into(out: &mut String, value: &dyn fmt::Display) {
    let raw = value.to_string();
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpaqueId;
    use crate::UrlSafe;

    #[derive(UrlSafe)]
    enum Order {
        Newest,
    }

    impl fmt::Display for Order {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Order::Newest => f.write_str("newest first"),
            }
        }
    }

    fn id() -> OpaqueId {
        "6f9619ff-8b86-d011-b42d-00c04fc964ff".parse().unwrap()
    }

    #[test]
    fn segments_and_query_are_joined() {
        let url = SafeUrl::new("/patients")
            .segment(id())
            .segment(10usize)
            .query("page", 3u32)
            .query("archived", false);
        assert_eq!(
            url.to_string(),
            "/patients/6f9619ff-8b86-d011-b42d-00c04fc964ff/10?page=3&archived=false"
        );
    }

    #[test]
    fn segment_after_query_goes_into_the_path() {
        let url = SafeUrl::new("/patients/").query("page", 1u8).segment(7u64);
        assert_eq!(url.as_str(), "/patients/7?page=1");
    }

    #[test]
    fn base_with_query_continues_it() {
        let url = SafeUrl::new("/audit?verify=true").query("page", 2u16);
        assert_eq!(url.into_string(), "/audit?verify=true&page=2");
    }

    #[test]
    fn values_are_percent_encoded() {
        let url = SafeUrl::new("/search").query("order", Order::Newest);
        assert_eq!(url.as_str(), "/search?order=newest%20first");
    }
}
