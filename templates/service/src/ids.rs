//! Typed opaque ids: what URLs, logs and responses name records by, never PHI. They are
//! random UUIDs made by the database (`gen_random_uuid()`).

use phi_guard::{OpaqueId, opaque_id};
use uuid::Uuid;

opaque_id! {
    /// A clinic: the tenant every record belongs to.
    pub struct ClinicId;
}

opaque_id! {
    /// A user account.
    pub struct UserId;
}

opaque_id! {
    /// A session (its row, never its token).
    pub struct SessionId;
}

opaque_id! {
    /// An invitation or password-reset token's row: its selector, never its secret half.
    pub struct AccountTokenId;
}

opaque_id! {
    /// A patient.
    pub struct PatientId;
}

opaque_id! {
    /// An encounter.
    pub struct EncounterId;
}

opaque_id! {
    /// An appointment.
    pub struct AppointmentId;
}

opaque_id! {
    /// A clinical note.
    pub struct NoteId;
}

/// The id as the UUID the database stores.
pub fn to_uuid(id: impl Into<OpaqueId>) -> Uuid {
    Uuid::from_bytes(*id.into().as_bytes())
}

/// The typed id of a UUID the database returned.
pub fn from_uuid<T: From<OpaqueId>>(uuid: Uuid) -> T {
    T::from(OpaqueId::from_bytes(uuid.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_uuids() {
        let uuid = Uuid::new_v4();
        let id: PatientId = from_uuid(uuid);
        assert_eq!(to_uuid(id), uuid);
        assert_eq!(id.to_string(), uuid.to_string());
    }
}
