-- Clinical notes (module `notes`): clinicians only, by the minimum-necessary rule; the
-- role check is in the handlers (src/auth/policy.rs), the clinic check here.
--
-- Numbered after every core migration (0001-0010), so app.hidden_patients() (0008) exists
-- whether the module is chosen at `medforge new` or added later by `medforge update`
-- (sqlx applies any migration it has not applied yet, whatever its number). Idempotent, so
-- that a project whose database already has the table from an earlier template (where it
-- was 0003-0005 and 0008 replaced its policy) ends with the same schema as a new one.

CREATE TABLE IF NOT EXISTS notes (
    -- Made by the service: the ciphertext of the row is bound to it.
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    -- AES-256-GCM ciphertext (src/crypto/), as in patients.
    body bytea NOT NULL,
    author_id uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);
CREATE INDEX IF NOT EXISTS notes_patient ON notes (clinic_id, patient_id, created_at);

COMMENT ON COLUMN notes.body IS 'PHI: clinical note text';

ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
-- HIPAA 164.312(a)(1): the clinic's rows only, and a restricted patient's records follow
-- the patient (0008_break_glass.sql).
DROP POLICY IF EXISTS notes_own_clinic ON notes;
CREATE POLICY notes_own_clinic ON notes
    USING (clinic_id = app.current_tenant()
           AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h))
    WITH CHECK (clinic_id = app.current_tenant()
                AND patient_id NOT IN (SELECT h FROM app.hidden_patients() h));

REVOKE ALL ON notes FROM PUBLIC;
GRANT SELECT, INSERT ON notes TO {{crate_name}}_service;
GRANT UPDATE (body, updated_at, deleted_at) ON notes TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON notes FROM PUBLIC, {{crate_name}}_service;
