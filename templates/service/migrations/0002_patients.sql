-- Patients: the core record every clinical module refers to.
--
-- The PHI columns are plain typed columns for now; their mapping to the domain types is
-- in one place (src/models/patient.rs).

CREATE TABLE patients (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    mrn text NOT NULL CHECK (length(mrn) BETWEEN 1 AND 64),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    date_of_birth date NOT NULL,
    phone text CHECK (length(phone) <= 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: the record is kept for the retention rules, and no longer served.
    deleted_at timestamptz,
    -- Lets the clinical tables refer to (clinic, patient): a record cannot point at
    -- another clinic's patient.
    UNIQUE (clinic_id, id)
);
CREATE UNIQUE INDEX patients_mrn ON patients (clinic_id, mrn);
CREATE INDEX patients_name_dob
    ON patients (clinic_id, lower(family_name), lower(given_name), date_of_birth);

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
GRANT UPDATE (mrn, given_name, family_name, date_of_birth, phone, updated_at, deleted_at)
    ON patients TO {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON patients FROM PUBLIC, {{crate_name}}_service;
