-- Appointments: scheduled visits (module `appointments`).
--
-- The reason is encrypted like the patients' columns. The times and status stay
-- plaintext, because schedules are ordered by them; without the patient's identity,
-- which is encrypted, they name no one (compliance/phi-inventory.md).

CREATE TABLE appointments (
    -- Made by the service: the ciphertext of the row is bound to it.
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
    status text NOT NULL CHECK (status IN ('booked', 'cancelled', 'fulfilled', 'noshow')),
    -- AES-256-GCM ciphertext (src/crypto/), as in patients.
    reason bytea,
    created_by uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);
CREATE INDEX appointments_patient ON appointments (clinic_id, patient_id, starts_at);

COMMENT ON COLUMN appointments.starts_at IS 'PHI: date and time of an appointment; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN appointments.ends_at IS 'PHI: date and time of an appointment; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN appointments.reason IS 'PHI: reason for the appointment';

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY appointments_own_clinic ON appointments
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());

REVOKE ALL ON appointments FROM PUBLIC;
GRANT SELECT, INSERT ON appointments TO {{crate_name}}_service;
GRANT UPDATE (starts_at, ends_at, status, reason, updated_at, deleted_at)
    ON appointments TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON appointments FROM PUBLIC, {{crate_name}}_service;
