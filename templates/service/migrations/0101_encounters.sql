-- Encounters: visits, admissions and calls (module `encounters`).
--
-- The reason is encrypted like the patients' columns. The class and the times of service
-- stay plaintext, because lists are ordered and scheduled by them; without the patient's
-- identity, which is encrypted, they name no one (compliance/phi-inventory.md).

CREATE TABLE encounters (
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
CREATE INDEX encounters_patient ON encounters (clinic_id, patient_id, started_at);

COMMENT ON COLUMN encounters.class IS 'PHI: setting of care (ambulatory, emergency, inpatient, virtual); plaintext: lists are filtered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN encounters.reason IS 'PHI: reason for the encounter';
COMMENT ON COLUMN encounters.started_at IS 'PHI: date and time of service; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';
COMMENT ON COLUMN encounters.ended_at IS 'PHI: date and time of service; plaintext: lists and schedules are ordered by it, and it names no one without the encrypted patient';

ALTER TABLE encounters ENABLE ROW LEVEL SECURITY;
ALTER TABLE encounters FORCE ROW LEVEL SECURITY;
CREATE POLICY encounters_own_clinic ON encounters
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());

REVOKE ALL ON encounters FROM PUBLIC;
GRANT SELECT, INSERT ON encounters TO {{crate_name}}_service;
GRANT UPDATE (class, reason, started_at, ended_at, updated_at, deleted_at)
    ON encounters TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON encounters FROM PUBLIC, {{crate_name}}_service;
