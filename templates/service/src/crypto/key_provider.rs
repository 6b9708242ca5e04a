//! Where the key-encryption key comes from: the key provider of the `key_provider` answer.
//!
//! The service reads it once at startup ([`crate::config::Config`]); an unreadable,
//! exposed or malformed key stops the start, and the message never shows the key.

use super::Kek;
use crate::policy::{KEY_PROVIDER, KeyProvider};

/// The variable that gives the key-encryption key (the `key_provider` answer): with
/// `file`, the path of a file that holds it in base64, readable by the service's user only
/// (0600); with `env`, its base64 itself, set by the secret manager that starts the service.
pub const KEK_VARIABLE: &str = match KEY_PROVIDER {
    KeyProvider::File => "KEY_ENCRYPTION_KEY_FILE",
    KeyProvider::Env => "KEY_ENCRYPTION_KEY",
};

/// The key-encryption key being replaced, set only while `rotate-keys` moves the data keys
/// to the current one (README.md, "Encryption keys"); given as [`KEK_VARIABLE`] is.
pub const PREVIOUS_KEK_VARIABLE: &str = match KEY_PROVIDER {
    KeyProvider::File => "PREVIOUS_KEY_ENCRYPTION_KEY_FILE",
    KeyProvider::Env => "PREVIOUS_KEY_ENCRYPTION_KEY",
};

/// Why the key provider gave no usable key. The messages name the variable (and the file),
/// never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProviderError {
    /// The key file cannot be read.
    #[error("{name}={path:?} cannot be read: {reason}")]
    Unreadable {
        name: &'static str,
        path: String,
        reason: String,
    },
    /// The key file is readable by others than its owner.
    #[error(
        "{name}={path:?} is readable by other users: make it readable by the service's user \
         only (chmod 600 {path:?})"
    )]
    FileTooOpen { name: &'static str, path: String },
    /// The key is not 32 bytes in base64.
    #[error(
        "{0} does not hold a key-encryption key: expected 32 bytes in standard base64 (44 \
         characters), as `{bin} generate-kek` prints",
        bin = env!("CARGO_PKG_NAME")
    )]
    Invalid(&'static str),
}

/// The key the variable `name` gives, as [`KEY_PROVIDER`] reads it, or `None` when the
/// variable is unset or empty.
pub fn read(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Kek>, KeyProviderError> {
    let Some(value) = lookup(name).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    match KEY_PROVIDER {
        KeyProvider::File => from_file(name, &value),
        KeyProvider::Env => from_base64(name, &value),
    }
    .map(Some)
}

/// The key in the file at `path`, which the variable `name` gave. The file must be
/// readable by its owner only: a key any local user can read protects nothing.
pub fn from_file(name: &'static str, path: &str) -> Result<Kek, KeyProviderError> {
    let unreadable = |reason: String| KeyProviderError::Unreadable {
        name,
        path: path.to_owned(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|error| unreadable(error.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(KeyProviderError::FileTooOpen {
                name,
                path: path.to_owned(),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path).map_err(|error| unreadable(error.to_string()))?;
    from_base64(name, &text)
}

/// The key from its base64 `text`, which the variable `name` gave.
pub fn from_base64(name: &'static str, text: &str) -> Result<Kek, KeyProviderError> {
    Kek::from_base64(text).map_err(|_| KeyProviderError::Invalid(name))
}

/// A key file with `contents` and the Unix `mode`, in the temporary directory; it goes
/// when this is dropped.
#[cfg(test)]
pub(crate) struct KeyFile(std::path::PathBuf);

#[cfg(test)]
impl KeyFile {
    pub(crate) fn new(contents: &str, mode: u32) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("kek-test-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        Self(path)
    }

    pub(crate) fn path(&self) -> String {
        self.0.display().to_string()
    }
}

#[cfg(test)]
impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let kek = Kek::generate().unwrap();
        let open = KeyFile::new(&kek.to_base64(), 0o644);
        let error = from_file(KEK_VARIABLE, &open.path()).unwrap_err();
        assert_eq!(
            error,
            KeyProviderError::FileTooOpen {
                name: KEK_VARIABLE,
                path: open.path(),
            }
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
        let closed = KeyFile::new(&kek.to_base64(), 0o600);
        assert_eq!(from_file(KEK_VARIABLE, &closed.path()), Ok(kek));
    }

    #[test]
    fn a_missing_or_malformed_key_file_is_named() {
        let error = from_file(KEK_VARIABLE, "/nonexistent/kek").unwrap_err();
        assert!(
            matches!(error, KeyProviderError::Unreadable { .. }),
            "{error}"
        );
        let bad = KeyFile::new("not a key", 0o600);
        let error = from_file(KEK_VARIABLE, &bad.path()).unwrap_err();
        assert_eq!(error, KeyProviderError::Invalid(KEK_VARIABLE));
        assert!(!error.to_string().contains("not a key"), "{error}");
    }

    #[test]
    fn a_malformed_key_is_refused_without_echoing_it() {
        let error = from_base64(KEK_VARIABLE, "bm90IGEga2V5").unwrap_err();
        assert_eq!(error, KeyProviderError::Invalid(KEK_VARIABLE));
        assert!(!error.to_string().contains("bm90IGEga2V5"), "{error}");
    }

    #[test]
    fn an_unset_or_empty_variable_gives_no_key() {
        assert_eq!(read(&|_| None, KEK_VARIABLE), Ok(None));
        assert_eq!(read(&|_| Some(String::new()), KEK_VARIABLE), Ok(None));
    }
}
