-- Patients: the core record every clinical module refers to.
--
-- Every PHI column holds AES-256-GCM ciphertext sealed by the service with the clinic's
-- data key (src/crypto/, migration 0007), bound to this table, the column and the row:
-- a superuser reading the table sees no plaintext, and a value copied into another row
-- or column does not decrypt. The exact-match searches use blind indexes (HMAC-SHA256
-- under the clinic's separate index key), so the database can find equal values without
-- learning them. src/models/patient.rs maps the columns to the domain types.

CREATE TABLE patients (
    -- Made by the service: every ciphertext of the row is bound to it.
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    mrn bytea NOT NULL,
    given_name bytea NOT NULL,
    family_name bytea NOT NULL,
    date_of_birth bytea NOT NULL,
    phone bytea,
    -- The blind indexes: the record number; family name, given name and date of birth.
    mrn_index bytea NOT NULL CHECK (length(mrn_index) = 32),
    name_dob_index bytea NOT NULL CHECK (length(name_dob_index) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: the record is kept for the retention rules, and no longer served.
    deleted_at timestamptz,
    -- Lets the clinical tables refer to (clinic, patient): a record cannot point at
    -- another clinic's patient.
    UNIQUE (clinic_id, id)
);
-- One record number per clinic, enforced on its blind index.
CREATE UNIQUE INDEX patients_mrn ON patients (clinic_id, mrn_index);
CREATE INDEX patients_name_dob ON patients (clinic_id, name_dob_index);

COMMENT ON COLUMN patients.mrn IS 'PHI: medical record number';
COMMENT ON COLUMN patients.given_name IS 'PHI: given name';
COMMENT ON COLUMN patients.family_name IS 'PHI: family name';
COMMENT ON COLUMN patients.date_of_birth IS 'PHI: date of birth';
COMMENT ON COLUMN patients.phone IS 'PHI: telephone number';

ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients FORCE ROW LEVEL SECURITY;
CREATE POLICY patients_own_clinic ON patients
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());

REVOKE ALL ON patients FROM PUBLIC;
GRANT SELECT, INSERT ON patients TO {{crate_name}}_service;
GRANT UPDATE (mrn, given_name, family_name, date_of_birth, phone, mrn_index, name_dob_index,
               updated_at, deleted_at)
    ON patients TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON patients FROM PUBLIC, {{crate_name}}_service;
