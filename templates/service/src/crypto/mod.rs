//! Encryption of PHI at rest, in the application (HIPAA 164.312(a)(2)(iv)
//! encryption and decryption, GDPR Art. 32(1)(a), nDSG Art. 8).
//!
//! Every PHI column the service stores is AES-256-GCM ciphertext made here, so whoever
//! reads the tables (a superuser, a backup, a stolen disk) sees no plaintext:
//!
//! - each clinic has its own random **data keys**, one per version, stored in
//!   `tenant_keys` only wrapped by the **key-encryption key** ([`kek`]), which never
//!   enters the database;
//! - each value is sealed with a fresh 96-bit random nonce under the clinic's current
//!   data key version; the ciphertext starts with a format byte and that version, so older
//!   versions keep reading after a new one is added;
//! - the clinic, the table, the column and the row are **associated data**: a ciphertext
//!   copied into another row, column or clinic fails to authenticate instead of
//!   decrypting to someone else's data;
//! - exact-match searches use **blind indexes**: HMAC-SHA256 of the normalized value
//!   under the clinic's separate blind-index key, per column, so equal values can be found
//!   without the database learning them;
//! - unwrapped keys are wiped from memory when dropped ([`ClinicKeys`], [`Kek`]; NIST SP
//!   800-57 Part 1: keys are destroyed once no longer needed), so a crash dump or a
//!   reused allocation shows no key of a clinic whose keys were evicted.
//!
//! [`key_provider`] reads the KEK where the project was generated to find it, [`keyring`]
//! loads (and creates) the keys of a clinic, [`rotation`] re-wraps them under
//! a new KEK without downtime (`rotate-keys`).

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::error::ApiError;

pub mod kek;
pub mod key_provider;
pub mod keyring;
pub mod password_hash;
pub mod rotation;
pub mod tenant_key;

pub use kek::{Kek, KekRing};
pub use keyring::Keyring;

/// AES-256 and HMAC-SHA256 keys: 32 bytes.
pub const KEY_LEN: usize = 32;
/// AES-GCM's 96-bit nonce, random per value (NIST SP 800-38D 8.2.2: fewer than 2^32
/// values per key, far beyond one clinic's records).
pub const NONCE_LEN: usize = 12;
/// The first byte of every ciphertext: how the rest is laid out.
const FORMAT_V1: u8 = 1;
/// Format byte, then the data key version (big-endian u32).
const HEADER_LEN: usize = 1 + 4;
const TAG_LEN: usize = 16;

/// Why a key or a value could not be sealed or opened. None of them carries data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("encryption failed")]
    Seal,
    /// The value was altered, or copied from another row, column or clinic.
    #[error(
        "a ciphertext failed to authenticate (altered, or copied from another row, column or clinic)"
    )]
    Open,
    #[error("a ciphertext names data key version {0}, which this clinic does not have")]
    UnknownVersion(u32),
    #[error("a decrypted value is not in its column's format")]
    Format,
    #[error("a data key does not unwrap with the key-encryption key that claims it")]
    Unwrap,
    #[error(
        "a data key was wrapped by key-encryption key {0}, which this service does not hold \
         (set the previous key while a rotation is under way)"
    )]
    KekMissing(String),
    #[error("a key-encryption key must be 32 bytes in standard base64 (44 characters)")]
    KekFormat,
}

/// Fills `bytes` from the operating system's CSPRNG.
pub(crate) fn random_bytes(bytes: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(bytes).map_err(|_| CryptoError::Random)
}

/// An encrypted column: its table and column names are part of every ciphertext's
/// associated data and of the blind-index input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub table: &'static str,
    pub column: &'static str,
}

impl Field {
    pub const fn new(table: &'static str, column: &'static str) -> Self {
        Self { table, column }
    }
}

/// One clinic's keys, unwrapped: every data key version (to open) and the current one (to
/// seal), and the blind-index key. Every key in it is wiped when it is dropped (NIST SP
/// 800-57 Part 1): the AES key schedules by aes-gcm's `zeroize`, the blind-index key by
/// [`Zeroizing`]; there is no `Debug` to print them.
pub struct ClinicKeys {
    clinic_id: Uuid,
    current: u32,
    data: BTreeMap<u32, Aes256Gcm>,
    index_key: Zeroizing<[u8; KEY_LEN]>,
}

// Each key the struct holds wipes itself on drop (asserted at compile time below), so the
// struct does; the clinic id and version number are not secret.
impl ZeroizeOnDrop for ClinicKeys {}

const _: () = {
    const fn wipes_on_drop<T: ZeroizeOnDrop>() {}
    wipes_on_drop::<Aes256Gcm>();
    wipes_on_drop::<Zeroizing<[u8; KEY_LEN]>>();
};

impl ClinicKeys {
    /// Keys from their raw bytes, which the caller keeps and wipes. `data` must hold at
    /// least one version; the highest seals.
    pub fn new<'k>(
        clinic_id: Uuid,
        data: impl IntoIterator<Item = (u32, &'k [u8; KEY_LEN])>,
        index_key: &[u8; KEY_LEN],
    ) -> Option<Self> {
        let data: BTreeMap<u32, Aes256Gcm> = data
            .into_iter()
            .map(|(version, key)| (version, Aes256Gcm::new(key.into())))
            .collect();
        let current = *data.keys().next_back()?;
        Some(Self {
            clinic_id,
            current,
            data,
            index_key: Zeroizing::new(*index_key),
        })
    }

    /// The clinic these keys belong to.
    pub fn clinic_id(&self) -> Uuid {
        self.clinic_id
    }

    /// The data key version new values are sealed with.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Encrypts `plaintext` for `field` of the record `row`.
    pub fn seal(&self, field: Field, row: Uuid, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self.data.get(&self.current).ok_or(CryptoError::Seal)?;
        let mut header = [0; HEADER_LEN];
        header[0] = FORMAT_V1;
        header[1..].copy_from_slice(&self.current.to_be_bytes());
        let mut nonce = [0; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let aad = self.associated_data(&header, field, row);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + sealed.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `field` and `row`.
    pub fn open(&self, field: Field, row: Uuid, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || sealed[0] != FORMAT_V1 {
            return Err(CryptoError::Open);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let version = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let cipher = self
            .data
            .get(&version)
            .ok_or(CryptoError::UnknownVersion(version))?;
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Open)?;
        let aad = self.associated_data(header, field, row);
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Open)
    }

    /// Header, clinic, row (fixed sizes), then `table.column`: unambiguous, and it binds
    /// the value to exactly one place.
    fn associated_data(&self, header: &[u8], field: Field, row: Uuid) -> Vec<u8> {
        let mut aad =
            Vec::with_capacity(header.len() + 32 + field.table.len() + field.column.len() + 1);
        aad.extend_from_slice(header);
        aad.extend_from_slice(self.clinic_id.as_bytes());
        aad.extend_from_slice(row.as_bytes());
        aad.extend_from_slice(field.table.as_bytes());
        aad.push(b'.');
        aad.extend_from_slice(field.column.as_bytes());
        aad
    }

    pub fn seal_text(&self, field: Field, row: Uuid, text: &str) -> Result<Vec<u8>, CryptoError> {
        self.seal(field, row, text.as_bytes())
    }

    pub fn open_text(&self, field: Field, row: Uuid, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(field, row, sealed)?).map_err(|_| CryptoError::Format)
    }

    /// Dates are sealed in their ISO 8601 form (`1970-01-31`).
    pub fn seal_date(
        &self,
        field: Field,
        row: Uuid,
        date: NaiveDate,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(field, row, date.format("%Y-%m-%d").to_string().as_bytes())
    }

    pub fn open_date(
        &self,
        field: Field,
        row: Uuid,
        sealed: &[u8],
    ) -> Result<NaiveDate, CryptoError> {
        let text = self.open_text(field, row, sealed)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| CryptoError::Format)
    }

    /// The blind index of `parts` (already normalized by the caller) for `field`: the
    /// same input gives the same 32 bytes within this clinic, nothing else does. Parts
    /// are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    pub fn blind_index(&self, field: Field, parts: &[&[u8]]) -> Vec<u8> {
        // Keyed afresh from the zeroizing key; the HMAC state (key-equivalent) is wiped
        // when dropped, by sha2's `zeroize`.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.index_key.as_slice())
            .expect("HMAC takes keys of any length");
        mac.update(field.table.as_bytes());
        mac.update(b".");
        mac.update(field.column.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// Lower-case hex of `bytes`: how hashes, MACs and tokens are written out.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl From<CryptoError> for ApiError {
    /// A value that does not open is an integrity failure, not a client error: logged
    /// (the error carries no data) and answered 500.
    fn from(error: CryptoError) -> Self {
        tracing::error!(%error, "encryption");
        Self::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: Field = Field::new("patients", "given_name");
    const FAMILY: Field = Field::new("patients", "family_name");

    fn keys(clinic: Uuid) -> ClinicKeys {
        ClinicKeys::new(clinic, [(1, &[1; KEY_LEN])], &[9; KEY_LEN]).unwrap()
    }

    #[test]
    fn a_value_opens_where_it_was_sealed() {
        let clinic = Uuid::new_v4();
        let row = Uuid::new_v4();
        let keys = keys(clinic);
        let sealed = keys.seal_text(NAME, row, "Testperson").unwrap();
        assert_eq!(keys.open_text(NAME, row, &sealed).unwrap(), "Testperson");
        assert!(!sealed.windows(10).any(|window| window == b"Testperson"));
        // A fresh nonce each time: equal values do not give equal ciphertexts.
        assert_ne!(keys.seal_text(NAME, row, "Testperson").unwrap(), sealed);
    }

    #[test]
    fn a_ciphertext_copied_to_another_row_column_or_clinic_fails() {
        let clinic = Uuid::new_v4();
        let row = Uuid::new_v4();
        let keys = keys(clinic);
        let sealed = keys.seal_text(NAME, row, "Testperson").unwrap();
        assert_eq!(
            keys.open(NAME, Uuid::new_v4(), &sealed),
            Err(CryptoError::Open)
        );
        assert_eq!(keys.open(FAMILY, row, &sealed), Err(CryptoError::Open));
        let other_clinic =
            ClinicKeys::new(Uuid::new_v4(), [(1, &[1; KEY_LEN])], &[9; KEY_LEN]).unwrap();
        assert_eq!(
            other_clinic.open(NAME, row, &sealed),
            Err(CryptoError::Open)
        );
    }

    #[test]
    fn a_tampered_ciphertext_fails() {
        let row = Uuid::new_v4();
        let keys = keys(Uuid::new_v4());
        let mut sealed = keys.seal_text(NAME, row, "Testperson").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(keys.open(NAME, row, &sealed), Err(CryptoError::Open));
        assert_eq!(keys.open(NAME, row, &[1, 0, 0]), Err(CryptoError::Open));
    }

    #[test]
    fn every_ciphertext_names_its_key_version_and_older_versions_still_open() {
        let clinic = Uuid::new_v4();
        let row = Uuid::new_v4();
        let old = keys(clinic);
        let sealed = old.seal_text(NAME, row, "Testperson").unwrap();
        assert_eq!(&sealed[..5], &[FORMAT_V1, 0, 0, 0, 1]);
        let rotated = ClinicKeys::new(
            clinic,
            [(1, &[1; KEY_LEN]), (2, &[2; KEY_LEN])],
            &[9; KEY_LEN],
        )
        .unwrap();
        assert_eq!(rotated.current_version(), 2);
        assert_eq!(rotated.open_text(NAME, row, &sealed).unwrap(), "Testperson");
        let newer = rotated.seal_text(NAME, row, "Testperson").unwrap();
        assert_eq!(&newer[..5], &[FORMAT_V1, 0, 0, 0, 2]);
        assert_eq!(
            old.open(NAME, row, &newer),
            Err(CryptoError::UnknownVersion(2))
        );
    }

    #[test]
    fn dates_round_trip() {
        let row = Uuid::new_v4();
        let keys = keys(Uuid::new_v4());
        let date = NaiveDate::from_ymd_opt(1970, 1, 31).unwrap();
        let sealed = keys.seal_date(NAME, row, date).unwrap();
        assert_eq!(keys.open_date(NAME, row, &sealed).unwrap(), date);
    }

    #[test]
    fn blind_indexes_match_exactly_and_only_within_a_clinic_and_column() {
        let keys = keys(Uuid::new_v4());
        let index = keys.blind_index(NAME, &[b"anna"]);
        assert_eq!(index.len(), 32);
        assert_eq!(index, keys.blind_index(NAME, &[b"anna"]));
        assert_ne!(index, keys.blind_index(NAME, &[b"ann"]));
        assert_ne!(index, keys.blind_index(FAMILY, &[b"anna"]));
        assert_ne!(
            keys.blind_index(NAME, &[b"ab", b"c"]),
            keys.blind_index(NAME, &[b"a", b"bc"])
        );
        let other = ClinicKeys::new(Uuid::new_v4(), [(1, &[1; KEY_LEN])], &[8; KEY_LEN]).unwrap();
        assert_ne!(index, other.blind_index(NAME, &[b"anna"]));
    }

    /// Checked by the compiler: a key type that stopped wiping itself would not build.
    fn wiped_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn key_material_is_wiped_when_dropped() {
        wiped_on_drop::<Kek>();
        wiped_on_drop::<ClinicKeys>();
        // What the key ring unwraps and hands to `ClinicKeys::new`.
        wiped_on_drop::<Zeroizing<[u8; KEY_LEN]>>();
        // The HMAC's inner and outer SHA-256 states are the blind-index key in another form.
        wiped_on_drop::<<Sha256 as hmac::digest::block_api::EagerHash>::Core>();
    }
}
