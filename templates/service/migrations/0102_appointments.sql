-- Appointments: scheduled visits (module `appointments`).
--
-- The reason is encrypted like the patients' columns. The times and status stay
-- plaintext, because schedules are ordered by them; without the patient's identity,
-- which is encrypted, they name no one (compliance/phi-inventory.md).
--
-- Numbered after every core migration (0001-0010), so app.hidden_patients() (0008) exists
-- whether the module is chosen at `medforge new` or added later by `medforge update`
-- (sqlx applies any migration it has not applied yet, whatever its number). Idempotent, so
-- that a project whose database already has the table from an earlier template (where it
-- was 0003-0005 and 0008 replaced its policy) ends with the same schema as a new one.

CREATE TABLE IF NOT EXISTS appointments (
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
CREATE INDEX IF NOT EXISTS appointments_patient ON appointments (clinic_id, patient_id, starts_at);

COMMENT ON COLUMN appointments.starts_at IS 'PHI: date and time of an appointment; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN appointments.ends_at IS 'PHI: date and time of an appointment; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN appointments.reason IS 'PHI: reason for the appointment';

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
-- HIPAA 164.312(a)(1): the clinic's rows only, and a restricted patient's records follow
-- the patient (0008_break_glass.sql).
DROP POLICY IF EXISTS appointments_own_clinic ON appointments;
CREATE POLICY appointments_own_clinic ON appointments
    USING (clinic_id = app.current_tenant()
           AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h))
    WITH CHECK (clinic_id = app.current_tenant()
                AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h));

REVOKE ALL ON appointments FROM PUBLIC;
GRANT SELECT, INSERT ON appointments TO {{crate_name}}_service;
GRANT UPDATE (starts_at, ends_at, status, reason, updated_at, deleted_at)
    ON appointments TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON appointments FROM PUBLIC, {{crate_name}}_service;
