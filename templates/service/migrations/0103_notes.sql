-- Clinical notes (module `notes`): clinicians only, by the minimum-necessary rule; the
-- role check is in the handlers (src/auth/policy.rs), the clinic check here.

CREATE TABLE notes (
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
CREATE INDEX notes_patient ON notes (clinic_id, patient_id, created_at);

COMMENT ON COLUMN notes.body IS 'PHI: clinical note text';

ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_own_clinic ON notes
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());

REVOKE ALL ON notes FROM PUBLIC;
GRANT SELECT, INSERT ON notes TO {{crate_name}}_service;
GRANT UPDATE (body, updated_at, deleted_at) ON notes TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON notes FROM PUBLIC, {{crate_name}}_service;
