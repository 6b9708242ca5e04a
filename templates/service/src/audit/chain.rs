//! The hash chain that makes the audit trail tamper-evident (HIPAA 164.312(b); HIPAA
//! 164.312(c)(1) integrity, 164.312(b) audit controls).
//!
//! Each clinic's events are numbered 1, 2, 3, ... (`seq`), and each carries
//! `hash = SHA-256(prev_hash || canonical(record))`, where `prev_hash` is the previous
//! event's hash (32 zero bytes for the first). Changing, removing or reordering any stored
//! event, even as the database owner with the triggers disabled, breaks the chain from
//! that event on; removing the newest events is caught by the chain head
//! (`audit_heads`), which must match the last event.
//!
//! # Canonical encoding, version 1
//!
//! The domain tag `medforge-audit-v1`, then each field in this order, each as one byte
//! `0x00` when absent (SQL NULL) or `0x01` followed by its length as a 32-bit big-endian
//! integer and its bytes:
//!
//! | field | bytes |
//! |---|---|
//! | clinic id | the UUID's 16 bytes |
//! | seq | 64-bit big-endian signed integer |
//! | occurred at | microseconds since 1970-01-01T00:00:00Z, 64-bit big-endian signed |
//! | actor user id | 16 bytes |
//! | actor role | UTF-8 |
//! | action | UTF-8 |
//! | resource type | UTF-8 |
//! | resource id | 16 bytes |
//! | outcome | UTF-8 |
//! | request id | 16 bytes |
//! | source address | UTF-8 |
//!
//! Lengths make the encoding unambiguous (no field can borrow bytes from the next), and
//! every column of the row except `id`, `prev_hash` and `hash` is covered.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Identifies the encoding below; a future version changes the tag.
const DOMAIN_TAG: &[u8] = b"medforge-audit-v1";

/// The `prev_hash` of a clinic's first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hashed fields of one audit event, as stored (strings, not enums, so a stored row
/// with an unexpected value still hashes to what it holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub clinic_id: Uuid,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub outcome: String,
    pub request_id: Option<Uuid>,
    pub source_address: Option<String>,
}

impl Record {
    /// The canonical bytes of the record (see the module documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = canonical_before_seq(self.clinic_id);
        field(&mut out, Some(&self.seq.to_be_bytes()));
        out.extend_from_slice(&self.canonical_after_seq());
        out
    }

    /// The canonical bytes that follow the seq field. Events are numbered as their
    /// transaction commits, by the database (`app.audit_chain_pending`, which puts
    /// [`SEQ_FIELD_HEADER`] and the number between [`canonical_before_seq`] and these
    /// bytes), so the chain head is never locked across a network round trip.
    pub fn canonical_after_seq(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(192);
        field(
            &mut out,
            Some(&self.occurred_at.timestamp_micros().to_be_bytes()),
        );
        field(
            &mut out,
            self.actor_user_id
                .as_ref()
                .map(|id| id.as_bytes().as_slice()),
        );
        field(&mut out, self.actor_role.as_deref().map(str::as_bytes));
        field(&mut out, Some(self.action.as_bytes()));
        field(&mut out, self.resource_type.as_deref().map(str::as_bytes));
        field(
            &mut out,
            self.resource_id.as_ref().map(|id| id.as_bytes().as_slice()),
        );
        field(&mut out, Some(self.outcome.as_bytes()));
        field(
            &mut out,
            self.request_id.as_ref().map(|id| id.as_bytes().as_slice()),
        );
        field(&mut out, self.source_address.as_deref().map(str::as_bytes));
        out
    }

    /// `SHA-256(prev_hash || canonical(self))`.
    pub fn chain_hash(&self, prev_hash: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash);
        hasher.update(self.canonical());
        hasher.finalize().into()
    }
}

/// The canonical bytes that precede the seq field: the domain tag and the clinic.
pub fn canonical_before_seq(clinic_id: Uuid) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    field(&mut out, Some(DOMAIN_TAG));
    field(&mut out, Some(clinic_id.as_bytes()));
    out
}

/// How the seq field starts: present (0x01), 8 bytes long. `app.audit_chain_pending`
/// (migrations/0006_audit.sql) writes these bytes as the literal `'\x0100000008'`.
pub const SEQ_FIELD_HEADER: [u8; 5] = [1, 0, 0, 0, 8];

fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            // Every field is far below 4 GiB (the columns have length checks).
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// An event as stored: its record, id and links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: Uuid,
    pub record: Record,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Why a chain does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// The event's fields do not hash to its stored hash: it was changed.
    HashMismatch,
    /// The event does not point at the previous event's hash: an event before it was
    /// changed, removed or inserted.
    PrevHashMismatch,
    /// A number is missing: the event with this seq was removed.
    MissingEvent,
    /// The chain head does not match the last event: the newest events were removed, or
    /// the head was changed, or an event was stored past it.
    HeadMismatch,
    /// The clinic has no chain at all: it was deleted whole.
    NoChain,
}

impl BreakReason {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HashMismatch => "hash_mismatch",
            Self::PrevHashMismatch => "prev_hash_mismatch",
            Self::MissingEvent => "missing_event",
            Self::HeadMismatch => "head_mismatch",
            Self::NoChain => "no_chain",
        }
    }
}

/// The first link that does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    /// The event at `seq`, when there is one.
    pub event_id: Option<Uuid>,
    pub reason: BreakReason,
}

/// Checks one clinic's events in seq order, one at a time, so a chain of any length is
/// verified in pages.
#[derive(Debug, Clone)]
pub struct Verifier {
    last_seq: i64,
    last_hash: Vec<u8>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS.to_vec(),
        }
    }
}

impl Verifier {
    /// The events checked so far.
    pub fn checked(&self) -> i64 {
        self.last_seq
    }

    /// Checks the next event.
    pub fn check(&mut self, event: &StoredEvent) -> Result<(), BrokenLink> {
        let broken = |reason, event_id| BrokenLink {
            seq: self.last_seq + 1,
            event_id,
            reason,
        };
        if event.record.seq != self.last_seq + 1 {
            return Err(broken(BreakReason::MissingEvent, None));
        }
        if event.prev_hash != self.last_hash {
            return Err(broken(BreakReason::PrevHashMismatch, Some(event.id)));
        }
        if event.record.chain_hash(&event.prev_hash).as_slice() != event.hash.as_slice() {
            return Err(broken(BreakReason::HashMismatch, Some(event.id)));
        }
        self.last_seq = event.record.seq;
        self.last_hash.clone_from(&event.hash);
        Ok(())
    }

    /// Checks that the chain ends where its head says: `head` is `(seq, hash)`.
    pub fn finish(&self, head: Option<(i64, &[u8])>) -> Result<(), BrokenLink> {
        let (seq, hash) = head.unwrap_or((0, &GENESIS));
        if seq == self.last_seq && hash == self.last_hash.as_slice() {
            Ok(())
        } else {
            Err(BrokenLink {
                seq: self.last_seq.max(seq),
                event_id: None,
                reason: BreakReason::HeadMismatch,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64) -> Record {
        Record {
            clinic_id: Uuid::from_u128(1),
            seq,
            occurred_at: DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap(),
            actor_user_id: Some(Uuid::from_u128(2)),
            actor_role: Some("clinician".into()),
            action: "read".into(),
            resource_type: Some("patients".into()),
            resource_id: Some(Uuid::from_u128(3)),
            outcome: "success".into(),
            request_id: None,
            source_address: Some("127.0.0.1".into()),
        }
    }

    fn chain(len: i64) -> Vec<StoredEvent> {
        let mut prev = GENESIS.to_vec();
        (1..=len)
            .map(|seq| {
                let record = record(seq);
                let hash = record.chain_hash(&prev).to_vec();
                StoredEvent {
                    id: Uuid::from_u128(100 + seq as u128),
                    record,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                }
            })
            .collect()
    }

    fn verify(events: &[StoredEvent], head: Option<(i64, &[u8])>) -> Result<(), BrokenLink> {
        let mut verifier = Verifier::default();
        events.iter().try_for_each(|event| verifier.check(event))?;
        verifier.finish(head)
    }

    /// `app.audit_chain_pending` assembles the encoding from these parts around the seq it
    /// assigns; the parts must add up to exactly what the verifier hashes.
    #[test]
    fn the_parts_around_the_seq_make_the_canonical_encoding() {
        let record = record(0x0102_0304_0506_0708);
        let mut assembled = canonical_before_seq(record.clinic_id);
        assembled.extend_from_slice(&SEQ_FIELD_HEADER);
        assembled.extend_from_slice(&record.seq.to_be_bytes());
        assembled.extend_from_slice(&record.canonical_after_seq());
        assert_eq!(assembled, record.canonical());
    }

    #[test]
    fn absent_and_empty_fields_encode_differently() {
        let mut empty = record(1);
        empty.actor_role = Some(String::new());
        let mut absent = record(1);
        absent.actor_role = None;
        assert_ne!(empty.canonical(), absent.canonical());
        // Lengths keep neighbouring fields apart.
        let mut shifted = record(1);
        shifted.action = "rea".into();
        shifted.resource_type = Some("dpatients".into());
        assert_ne!(shifted.canonical(), record(1).canonical());
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(3);
        let last = events.last().unwrap();
        assert_eq!(verify(&events, Some((3, &last.hash))), Ok(()));
        assert_eq!(verify(&[], None), Ok(()));
    }

    #[test]
    fn a_changed_event_is_the_first_broken_link() {
        let mut events = chain(3);
        events[1].record.action = "update".into();
        let head = events[2].hash.clone();
        let broken = verify(&events, Some((3, &head))).unwrap_err();
        assert_eq!((broken.seq, broken.reason), (2, BreakReason::HashMismatch));
        assert_eq!(broken.event_id, Some(events[1].id));
    }

    #[test]
    fn removed_events_are_detected() {
        let mut events = chain(3);
        let head = events[2].hash.clone();
        events.remove(1);
        let broken = verify(&events, Some((3, &head))).unwrap_err();
        assert_eq!((broken.seq, broken.reason), (2, BreakReason::MissingEvent));
        let events = chain(3);
        let broken = verify(&events[..2], Some((3, &head))).unwrap_err();
        assert_eq!(broken.reason, BreakReason::HeadMismatch);
    }
}
