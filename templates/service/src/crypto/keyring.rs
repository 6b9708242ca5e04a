//! The key ring: each clinic's keys, unwrapped once and kept in memory for a while, so a
//! request pays for AES-GCM and HMAC, not for a key lookup and an unwrap.
//!
//! A clinic's first keys are made the first time it needs them, in the transaction of the
//! request that needs them: a request never holds one pooled connection while it waits
//! for another, so a full pool cannot deadlock. The keys commit or roll back with the
//! values sealed under them, and are cached only once committed: a key that rolled back
//! must never seal a value another transaction commits.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgConnection;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::tenant_key::{self, Purpose, WrappedKey};
use super::{ClinicKeys, CryptoError, KEY_LEN, KekRing, random_bytes};
use crate::error::ApiError;

/// How long unwrapped keys are kept before they are read again: the time a service
/// instance takes to start sealing with a data key version `rotate-keys --new-data-key`
/// added. Older versions open throughout.
pub const CACHE_TTL: Duration = Duration::from_secs(300);

/// Why a clinic's keys are not available.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the clinic has no data key after creating one")]
    Missing,
}

/// The KEKs and the clinics' unwrapped keys.
pub struct Keyring {
    keks: KekRing,
    cache: RwLock<HashMap<Uuid, (Instant, Arc<ClinicKeys>)>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("keks", &self.keks)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    pub fn new(keks: KekRing) -> Self {
        Self {
            keks,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The keys of `clinic_id`, read with `tx` (scoped to that clinic), and created in
    /// `tx` if the clinic has none yet. Keys this call creates are not cached: they exist
    /// only if `tx` commits, and the next request reads them back.
    pub async fn for_clinic(
        &self,
        tx: &mut PgConnection,
        clinic_id: Uuid,
    ) -> Result<Arc<ClinicKeys>, KeyError> {
        if let Some(keys) = self.cached(clinic_id) {
            return Ok(keys);
        }
        let mut stored = tenant_key::of_clinic(tx, clinic_id).await?;
        let mut created = false;
        if !has_both(&stored) {
            created = self.create(tx, clinic_id, &stored).await?;
            stored = tenant_key::of_clinic(tx, clinic_id).await?;
        }
        let keys = Arc::new(self.unwrap_all(clinic_id, &stored)?);
        if !created && let Ok(mut cache) = self.cache.write() {
            cache.insert(clinic_id, (Instant::now(), Arc::clone(&keys)));
        }
        Ok(keys)
    }

    fn cached(&self, clinic_id: Uuid) -> Option<Arc<ClinicKeys>> {
        let cache = self.cache.read().ok()?;
        let (loaded, keys) = cache.get(&clinic_id)?;
        (loaded.elapsed() < CACHE_TTL).then(|| Arc::clone(keys))
    }

    /// Adds the keys `stored` lacks, wrapped under the current KEK, in `tx`; whether it
    /// added any. When a concurrent first request has added one already, the insert waits
    /// for that request to end and keeps its key if it committed. The purposes go in one
    /// order, so two first requests never wait on each other in a cycle.
    async fn create(
        &self,
        tx: &mut PgConnection,
        clinic_id: Uuid,
        stored: &[WrappedKey],
    ) -> Result<bool, KeyError> {
        let mut added = false;
        for purpose in [Purpose::Data, Purpose::BlindIndex] {
            if stored.iter().any(|key| key.purpose == purpose) {
                continue;
            }
            let key = self.new_wrapped(clinic_id, purpose, 1)?;
            added |= tenant_key::insert(tx, &key).await?;
        }
        Ok(added)
    }

    /// A fresh random key of `purpose` and `version`, wrapped under the current KEK.
    pub fn new_wrapped(
        &self,
        clinic_id: Uuid,
        purpose: Purpose,
        version: u32,
    ) -> Result<WrappedKey, CryptoError> {
        let mut key = Zeroizing::new([0; KEY_LEN]);
        random_bytes(key.as_mut_slice())?;
        Ok(WrappedKey {
            clinic_id,
            purpose,
            version,
            wrapped_key: self
                .keks
                .current
                .wrap(&key, &wrap_context(clinic_id, purpose, version))?,
            kek_id: self.keks.current.id(),
        })
    }

    /// The raw key inside `stored`, with whichever KEK of the ring wrapped it; wiped when
    /// dropped.
    pub fn unwrap(&self, stored: &WrappedKey) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        let kek = self
            .keks
            .by_id(&stored.kek_id)
            .ok_or_else(|| CryptoError::KekMissing(stored.kek_id.clone()))?;
        kek.unwrap_key(
            &stored.wrapped_key,
            &wrap_context(stored.clinic_id, stored.purpose, stored.version),
        )
    }

    /// `key` wrapped under the current KEK instead (`rotate-keys`).
    pub fn rewrapped(&self, stored: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let key = self.unwrap(stored)?;
        Ok(WrappedKey {
            wrapped_key: self.keks.current.wrap(
                &key,
                &wrap_context(stored.clinic_id, stored.purpose, stored.version),
            )?,
            kek_id: self.keks.current.id(),
            ..stored.clone()
        })
    }

    /// The name of the KEK new keys are wrapped under.
    pub fn current_kek_id(&self) -> String {
        self.keks.current.id()
    }

    fn unwrap_all(&self, clinic_id: Uuid, stored: &[WrappedKey]) -> Result<ClinicKeys, KeyError> {
        let mut data = Vec::new();
        let mut index = None;
        for key in stored {
            let raw = self.unwrap(key)?;
            match key.purpose {
                Purpose::Data => data.push((key.version, raw)),
                Purpose::BlindIndex => index = Some(raw),
            }
        }
        let index = index.ok_or(KeyError::Missing)?;
        let data = data.iter().map(|(version, raw)| (*version, &**raw));
        ClinicKeys::new(clinic_id, data, &index).ok_or(KeyError::Missing)
    }
}

fn has_both(stored: &[WrappedKey]) -> bool {
    [Purpose::Data, Purpose::BlindIndex]
        .iter()
        .all(|purpose| stored.iter().any(|key| key.purpose == *purpose))
}

/// What a wrapped key is bound to: its clinic, purpose and version. A wrapped key copied
/// into another clinic's row does not unwrap.
fn wrap_context(clinic_id: Uuid, purpose: Purpose, version: u32) -> Vec<u8> {
    let mut context = Vec::with_capacity(16 + 12 + 4);
    context.extend_from_slice(clinic_id.as_bytes());
    context.extend_from_slice(purpose.as_str().as_bytes());
    context.push(0);
    context.extend_from_slice(&version.to_be_bytes());
    context
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Database(error) => error.into(),
            other => {
                tracing::error!(error = %other, "encryption keys");
                Self::Internal
            }
        }
    }
}
