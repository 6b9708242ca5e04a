//! Keyed checkpoints of every clinic's audit chain, kept outside the database
//! (HIPAA 164.312(b), 164.312(c)(1); NIST SP 800-92 log protection).
//!
//! The hash chain shows any change to a stored event, but the database's owner can
//! delete the newest events and rewind the head, or drop a clinic's chain whole, and
//! leave a chain that is consistent with itself. A checkpoint records each clinic's head
//! (number, hash, time) under an HMAC whose key derives from the key-encryption key, which
//! the database never holds; shipped to write-once storage or a SIEM, it proves later
//! that each chain still reaches the head it had. `audit-checkpoint` writes one;
//! `verify-audit --checkpoint FILE` checks the chains against it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hmac::Mac;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::store as rows;
use crate::crypto::Kek;
use crate::crypto::hex;

/// What the checkpoint key is derived for.
const KEY_PURPOSE: &str = "audit checkpoint v1";

/// One clinic's head at checkpoint time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    /// SHA-256 of the event at `seq`, hex.
    pub hash: String,
}

/// Every clinic's head, and the MAC over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub taken_at: DateTime<Utc>,
    /// By clinic id (hyphenated UUID).
    pub heads: BTreeMap<String, Head>,
    /// HMAC-SHA256 of [`Checkpoint::signed_bytes`] under the key derived from the KEK, hex.
    pub mac: String,
}

/// Why a checkpoint cannot be used or a chain does not hold it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "the checkpoint's MAC does not verify: it was changed, or made under another \
         key-encryption key"
    )]
    Forged,
    #[error("the checkpoint is not a checkpoint file: {0}")]
    Malformed(String),
}

/// How one clinic's chain compares with the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The chain no longer holds the checkpointed head: events were removed or replaced.
    HeadMissing { clinic_id: Uuid, seq: i64 },
    /// A clinic in `clinics` has no audit chain at all.
    NoChain { clinic_id: Uuid },
}

impl Finding {
    pub fn clinic_id(&self) -> Uuid {
        match self {
            Self::HeadMissing { clinic_id, .. } | Self::NoChain { clinic_id } => *clinic_id,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::HeadMissing { clinic_id, seq } => format!(
                "clinic {clinic_id}: the audit chain no longer holds event {seq} as \
                 checkpointed (events were removed or replaced)"
            ),
            Self::NoChain { clinic_id } => {
                format!("clinic {clinic_id}: the clinic has no audit chain")
            }
        }
    }
}

impl Checkpoint {
    /// The bytes the MAC covers: the time and every head, in clinic order.
    fn signed_bytes(taken_at: DateTime<Utc>, heads: &BTreeMap<String, Head>) -> Vec<u8> {
        let mut bytes = taken_at.timestamp_micros().to_be_bytes().to_vec();
        for (clinic, head) in heads {
            let seq = head.seq.to_be_bytes();
            for part in [clinic.as_bytes(), &seq, head.hash.as_bytes()] {
                let length = u32::try_from(part.len()).unwrap_or(u32::MAX);
                bytes.extend_from_slice(&length.to_be_bytes());
                bytes.extend_from_slice(part);
            }
        }
        bytes
    }

    fn mac(
        kek: &Kek,
        taken_at: DateTime<Utc>,
        heads: &BTreeMap<String, Head>,
    ) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = kek.derive(KEY_PURPOSE);
        mac.update(&Self::signed_bytes(taken_at, heads));
        mac
    }

    /// Reads every clinic's head with `connection` (the owner's, which sees every chain)
    /// and signs them.
    pub async fn take(
        connection: &mut PgConnection,
        kek: &Kek,
        taken_at: DateTime<Utc>,
    ) -> Result<Self, sqlx::Error> {
        let heads: BTreeMap<String, Head> = rows::heads(connection)
            .await?
            .into_iter()
            .map(|(clinic, seq, hash)| {
                (
                    clinic.to_string(),
                    Head {
                        seq,
                        hash: hex(&hash),
                    },
                )
            })
            .collect();
        let mac = hex(&Self::mac(kek, taken_at, &heads).finalize().into_bytes());
        Ok(Self {
            taken_at,
            heads,
            mac,
        })
    }

    /// The checkpoint in `text`, if its MAC verifies under `kek` (in constant time).
    pub fn open(text: &str, kek: &Kek) -> Result<Self, CheckpointError> {
        let checkpoint: Self = serde_json::from_str(text)
            .map_err(|error| CheckpointError::Malformed(error.to_string()))?;
        let mac = decode_hex(&checkpoint.mac).ok_or(CheckpointError::Forged)?;
        Self::mac(kek, checkpoint.taken_at, &checkpoint.heads)
            .verify_slice(&mac)
            .map_err(|_| CheckpointError::Forged)?;
        Ok(checkpoint)
    }

    /// Compares the chains `connection` sees with this checkpoint: each checkpointed head
    /// must still be in its clinic's chain with the same hash, and every clinic must have
    /// a chain.
    pub async fn compare(
        &self,
        connection: &mut PgConnection,
    ) -> Result<Vec<Finding>, sqlx::Error> {
        let mut findings = Vec::new();
        for (clinic, head) in &self.heads {
            let clinic =
                Uuid::parse_str(clinic).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            let stored = rows::event_hash(connection, clinic, head.seq).await?;
            if stored.map(|hash| hex(&hash)).as_deref() != Some(head.hash.as_str()) {
                findings.push(Finding::HeadMissing {
                    clinic_id: clinic,
                    seq: head.seq,
                });
            }
        }
        findings.extend(unchained_clinics(connection).await?);
        Ok(findings)
    }
}

/// Every clinic of `clinics` that has no audit chain: each clinic's creation is audited,
/// so such a clinic lost its chain whole.
pub async fn unchained_clinics(connection: &mut PgConnection) -> Result<Vec<Finding>, sqlx::Error> {
    Ok(rows::clinics_without_chain(connection)
        .await?
        .into_iter()
        .map(|clinic_id| Finding::NoChain { clinic_id })
        .collect())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(kek: &Kek) -> Checkpoint {
        let taken_at = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let heads = BTreeMap::from([(
            Uuid::from_u128(7).to_string(),
            Head {
                seq: 42,
                hash: "ab".repeat(32),
            },
        )]);
        let mac = hex(&Checkpoint::mac(kek, taken_at, &heads)
            .finalize()
            .into_bytes());
        Checkpoint {
            taken_at,
            heads,
            mac,
        }
    }

    #[test]
    fn a_checkpoint_opens_only_unchanged_and_under_its_own_key() {
        let kek = Kek::generate().unwrap();
        let text = serde_json::to_string(&checkpoint(&kek)).unwrap();
        assert_eq!(Checkpoint::open(&text, &kek), Ok(checkpoint(&kek)));

        let other = Kek::generate().unwrap();
        assert_eq!(
            Checkpoint::open(&text, &other),
            Err(CheckpointError::Forged)
        );

        let rewound = text.replace("\"seq\":42", "\"seq\":41");
        assert_ne!(rewound, text);
        assert_eq!(
            Checkpoint::open(&rewound, &kek),
            Err(CheckpointError::Forged)
        );
        assert!(matches!(
            Checkpoint::open("{}", &kek),
            Err(CheckpointError::Malformed(_))
        ));
    }
}
