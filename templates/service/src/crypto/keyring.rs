//! The key ring: each clinic's keys, unwrapped once and kept in memory for a while, so a
//! request pays for AES-GCM and HMAC, not for a key lookup and an unwrap.
//!
//! A clinic's first keys are made the first time it needs them, in a transaction of
//! their own that commits before any value is sealed with them: a key that could roll back
//! with the request that made it would leave values no key opens.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ClinicKeys, CryptoError, KEY_LEN, KekRing, random_bytes};
use crate::db;
use crate::models::ids::from_uuid;
use crate::models::tenant_key::{self, Purpose, WrappedKey};

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

    /// The keys of `clinic_id`, read with `tx` (scoped to that clinic), created through
    /// `pool` if the clinic has none yet.
    pub async fn for_clinic(
        &self,
        pool: &PgPool,
        tx: &mut PgConnection,
        clinic_id: Uuid,
    ) -> Result<Arc<ClinicKeys>, KeyError> {
        if let Some(keys) = self.cached(clinic_id) {
            return Ok(keys);
        }
        let mut stored = tenant_key::of_clinic(tx, clinic_id).await?;
        if !has_both(&stored) {
            self.create(pool, clinic_id, &stored).await?;
            stored = tenant_key::of_clinic(tx, clinic_id).await?;
        }
        let keys = Arc::new(self.unwrap_all(clinic_id, &stored)?);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(clinic_id, (Instant::now(), Arc::clone(&keys)));
        }
        Ok(keys)
    }

    fn cached(&self, clinic_id: Uuid) -> Option<Arc<ClinicKeys>> {
        let cache = self.cache.read().ok()?;
        let (loaded, keys) = cache.get(&clinic_id)?;
        (loaded.elapsed() < CACHE_TTL).then(|| Arc::clone(keys))
    }

    /// Makes the keys `stored` lacks, wrapped under the current KEK, and commits them.
    async fn create(
        &self,
        pool: &PgPool,
        clinic_id: Uuid,
        stored: &[WrappedKey],
    ) -> Result<(), KeyError> {
        let mut tx = db::begin_scoped(pool, from_uuid(clinic_id), None).await?;
        for purpose in [Purpose::Data, Purpose::BlindIndex] {
            if stored.iter().any(|key| key.purpose == purpose) {
                continue;
            }
            let key = self.new_wrapped(clinic_id, purpose, 1)?;
            // A concurrent first request may have made it: then that one stands.
            tenant_key::insert(&mut tx, &key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A fresh random key of `purpose` and `version`, wrapped under the current KEK.
    pub fn new_wrapped(
        &self,
        clinic_id: Uuid,
        purpose: Purpose,
        version: u32,
    ) -> Result<WrappedKey, CryptoError> {
        let mut key = [0; KEY_LEN];
        random_bytes(&mut key)?;
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

    /// The raw key inside `stored`, with whichever KEK of the ring wrapped it.
    pub fn unwrap(&self, stored: &WrappedKey) -> Result<[u8; KEY_LEN], CryptoError> {
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
