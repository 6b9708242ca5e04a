//! `rotate-keys`: re-wraps every clinic's keys under the current key-encryption key, and
//! on request adds a new data key version, without stopping the service.
//!
//! Changing the KEK, step by step (README.md, "Encryption keys"):
//! 1. run the service with the new KEK as the current one and the old one as the previous
//!    one: it opens keys wrapped by either;
//! 2. run `rotate-keys` with the same two: each clinic's keys are re-wrapped in a short
//!    transaction of their own; running it again resumes where it stopped;
//! 3. drop the previous KEK from the service's configuration and destroy it.
//!
//! Values are not re-encrypted: re-wrapping leaves the data keys as they were, which is
//! why no record changes and every record still reads. A new data key version
//! (`--new-data-key`) seals new values from then on; the values sealed before keep the
//! version they name.

use sqlx::{Connection, PgConnection};

use super::keyring::{KeyError, Keyring};
use super::tenant_key::{self, Purpose};

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Clinics whose keys were looked at.
    pub clinics: usize,
    /// Keys now wrapped under the current KEK that were not before.
    pub rewrapped: usize,
    /// Keys already wrapped under the current KEK.
    pub already_current: usize,
    /// Data key versions added (`--new-data-key`).
    pub data_keys_added: usize,
}

/// Re-wraps every key in the database under `keyring`'s current KEK (connected as the
/// owner role), one clinic per transaction; with `new_data_key`, adds each clinic's next
/// data key version too.
pub async fn rotate_keys(
    owner: &mut PgConnection,
    keyring: &Keyring,
    new_data_key: bool,
) -> Result<Rotation, KeyError> {
    let current = keyring.current_kek_id();
    let mut rotation = Rotation::default();
    for clinic_id in tenant_key::clinics(owner).await? {
        let mut tx = owner.begin().await?;
        let keys = tenant_key::of_clinic_for_update(&mut tx, clinic_id).await?;
        for key in &keys {
            if key.kek_id == current {
                rotation.already_current += 1;
                continue;
            }
            tenant_key::rewrap(&mut tx, &keyring.rewrapped(key)?).await?;
            rotation.rewrapped += 1;
        }
        if new_data_key {
            let next = keys
                .iter()
                .filter(|key| key.purpose == Purpose::Data)
                .map(|key| key.version)
                .max()
                .unwrap_or(0)
                + 1;
            let added = keyring.new_wrapped(clinic_id, Purpose::Data, next)?;
            tenant_key::insert(&mut tx, &added).await?;
            rotation.data_keys_added += 1;
        }
        tx.commit().await?;
        rotation.clinics += 1;
    }
    Ok(rotation)
}
