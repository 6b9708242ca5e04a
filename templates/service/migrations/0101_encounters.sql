-- Encounters: visits, admissions and calls (module `encounters`).
--
-- The reason is encrypted like the patients' columns. The class and the times of service
-- stay plaintext, because lists are ordered and scheduled by them; without the patient's
-- identity, which is encrypted, they name no one (compliance/phi-inventory.md).
--
-- Numbered after every core migration (0001-0010), so app.hidden_patients() (0008) exists
-- whether the module is chosen at `medforge new` or added later by `medforge update`
-- (sqlx applies any migration it has not applied yet, whatever its number). Idempotent, so
-- that a project whose database already has the table from an earlier template (where it
-- was 0003-0005 and 0008 replaced its policy) ends with the same schema as a new one.

CREATE TABLE IF NOT EXISTS encounters (
    -- Made by the service: the ciphertext of the row is bound to it.
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    class text NOT NULL CHECK (class IN ('ambulatory', 'emergency', 'inpatient', 'virtual')),
    -- AES-256-GCM ciphertext (src/crypto/), as in patients.
    reason bytea,
    started_at timestamptz NOT NULL,
    ended_at timestamptz CHECK (ended_at >= started_at),
    created_by uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);
CREATE INDEX IF NOT EXISTS encounters_patient ON encounters (clinic_id, patient_id, started_at);

COMMENT ON COLUMN encounters.class IS 'PHI: setting of care (ambulatory, emergency, inpatient, virtual); plaintext: lists are filtered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN encounters.reason IS 'PHI: reason for the encounter';
COMMENT ON COLUMN encounters.started_at IS 'PHI: date and time of service; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN encounters.ended_at IS 'PHI: date and time of service; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';

ALTER TABLE encounters ENABLE ROW LEVEL SECURITY;
ALTER TABLE encounters FORCE ROW LEVEL SECURITY;
-- HIPAA 164.312(a)(1): the clinic's rows only, and a restricted patient's records follow
-- the patient (0008_break_glass.sql).
DROP POLICY IF EXISTS encounters_own_clinic ON encounters;
CREATE POLICY encounters_own_clinic ON encounters
    USING (clinic_id = app.current_tenant()
           AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h))
    WITH CHECK (clinic_id = app.current_tenant()
                AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h));

REVOKE ALL ON encounters FROM PUBLIC;
GRANT SELECT, INSERT ON encounters TO {{crate_name}}_service;
GRANT UPDATE (class, reason, started_at, ended_at, updated_at, deleted_at)
    ON encounters TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON encounters FROM PUBLIC, {{crate_name}}_service;
