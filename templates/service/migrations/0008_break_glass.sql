-- Restricted patients and break-glass access (SPEC 4.1 `POST /emergency-access`;
-- HIPAA 164.312(a)(2)(ii) emergency access procedure, 164.312(b) audit controls;
-- GDPR Art. 32; nDSG Art. 8).
--
-- A patient can be restricted: visible only to the clinicians on its care team. Any
-- other clinician gets in only by breaking the glass, which grants that one clinician
-- that one patient for a fixed time (the default of emergency_access.expires_at, the same
-- as EMERGENCY_ACCESS_LIFETIME in src/models/emergency_access.rs), with a mandatory
-- reason, an audit event, and a flag (reviewed_at IS NULL) until an auditor reviews it.
--
-- Restriction, care team and grants live in their own tables, so the patients table
-- keeps its columns; the patients policy gains a visibility check against
-- app.hidden_patients(). The clinical records of each module follow the patient in the
-- module's own migration (0101-0103), which runs after this one.

-- A row here restricts the patient; care_team lists who treats it.
CREATE TABLE patient_restrictions (
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    restricted_by uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    restricted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, patient_id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);

CREATE TABLE care_team (
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    added_by uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    added_at timestamptz NOT NULL DEFAULT now(),
    -- Serves app.patient_in_care(): (clinic, patient, user).
    PRIMARY KEY (clinic_id, patient_id, user_id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);
-- Serves app.hidden_patients(): the care teams of the current user.
CREATE INDEX care_team_member ON care_team (clinic_id, user_id, patient_id);

-- Break-glass grants. The service may name only the grant, the patient and the reason:
-- who, when and until when come from the column defaults (column-level INSERT privilege
-- below), so a compromised service cannot grant another account, backdate, or extend a
-- grant. The reason is AES-256-GCM ciphertext bound to the grant's id (src/crypto/),
-- which is why the service makes the id.
CREATE TABLE emergency_access (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    user_id uuid NOT NULL DEFAULT app.current_user_id() REFERENCES users (id),
    -- 20 to 2000 characters once trimmed, checked by the service before sealing.
    reason bytea NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    -- EMERGENCY_ACCESS_LIFETIME (src/models/emergency_access.rs).
    expires_at timestamptz NOT NULL DEFAULT now() + interval '60 minutes',
    -- Flagged for review while NULL.
    reviewed_at timestamptz,
    reviewed_by uuid REFERENCES users (id),
    CHECK (expires_at > granted_at),
    CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL)),
    -- Nobody reviews their own break-glass.
    CHECK (reviewed_by <> user_id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
);
-- The current user's grants (app.hidden_patients()), and the auditors' review queue.
CREATE INDEX emergency_access_holder
    ON emergency_access (clinic_id, user_id, patient_id, expires_at);
CREATE INDEX emergency_access_unreviewed
    ON emergency_access (clinic_id, id) WHERE reviewed_at IS NULL;

COMMENT ON COLUMN emergency_access.reason IS 'PHI: break-glass justification';

-- The current account's role, from users (clinic-scoped by its own policy); NULL without
-- a user or for a disabled account.
CREATE FUNCTION app.current_user_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT u.role FROM public.users u
    WHERE u.id = app.current_user_id() AND u.disabled_at IS NULL
$$;

-- Whether the current user is in the normal circle of care of `patient`: the patient is
-- not restricted, or the user is on its care team. An unset user is on no care team.
-- It decides who may change a restriction: per row of those small tables, and once for
-- `PUT /patients/{id}/restriction`.
CREATE FUNCTION app.patient_in_care(patient uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT NOT EXISTS (
            SELECT 1 FROM public.patient_restrictions r
            WHERE r.clinic_id = app.current_tenant() AND r.patient_id = patient)
        OR EXISTS (
            SELECT 1 FROM public.care_team t
            WHERE t.clinic_id = app.current_tenant() AND t.patient_id = patient
              AND t.user_id = app.current_user_id())
$$;

-- The restricted patients of the clinic that the current user may not see: neither on
-- their care team nor holding an unexpired break-glass grant for them; every restricted
-- patient when no user is set. The same rule as app.patient_in_care(), plus the grants,
-- written as one set so that the policies below stay fast on lists: a set-returning SQL
-- function is inlined into the query, and `id NOT IN (...)` becomes one hashed subplan
-- per statement (a hash probe per row) instead of a function call per row. Its cost is
-- proportional to the clinic's restricted patients, which are few by nature.
CREATE FUNCTION app.hidden_patients() RETURNS SETOF uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT r.patient_id FROM public.patient_restrictions r
    WHERE r.clinic_id = app.current_tenant()
      AND NOT EXISTS (
            SELECT 1 FROM public.care_team t
            WHERE t.clinic_id = r.clinic_id AND t.patient_id = r.patient_id
              AND t.user_id = app.current_user_id())
      AND NOT EXISTS (
            SELECT 1 FROM public.emergency_access g
            WHERE g.clinic_id = r.clinic_id AND g.patient_id = r.patient_id
              AND g.user_id = app.current_user_id() AND g.expires_at > now())
$$;

-- Invoker's rights: each reads through the caller's own policies.
REVOKE ALL ON FUNCTION
    app.current_user_role(), app.patient_in_care(uuid), app.hidden_patients()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    app.current_user_role(), app.patient_in_care(uuid), app.hidden_patients()
    TO {{crate_name}}_service;

-- HIPAA 164.312(a)(1): a restricted patient is invisible outside its care team and
-- break-glass grants, for reads and writes alike.
DROP POLICY patients_own_clinic ON patients;
CREATE POLICY patients_own_clinic ON patients
    USING (clinic_id = app.current_tenant()
           AND id NOT IN (SELECT h FROM app.hidden_patients() h))
    WITH CHECK (clinic_id = app.current_tenant()
                AND id NOT IN (SELECT h FROM app.hidden_patients() h));

-- Restriction and care team: read within the clinic (the helpers above read them; a
-- policy that called them here would recurse), changed only by someone in the patient's
-- care. A break-glass grant is not enough: it must not turn itself into membership.
ALTER TABLE patient_restrictions ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_restrictions FORCE ROW LEVEL SECURITY;
CREATE POLICY patient_restrictions_read ON patient_restrictions FOR SELECT
    USING (clinic_id = app.current_tenant());
CREATE POLICY patient_restrictions_add ON patient_restrictions FOR INSERT
    WITH CHECK (clinic_id = app.current_tenant() AND app.patient_in_care(patient_id)
                AND restricted_by = app.current_user_id());
CREATE POLICY patient_restrictions_lift ON patient_restrictions FOR DELETE
    USING (clinic_id = app.current_tenant() AND app.patient_in_care(patient_id));

ALTER TABLE care_team ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_team FORCE ROW LEVEL SECURITY;
CREATE POLICY care_team_read ON care_team FOR SELECT
    USING (clinic_id = app.current_tenant());
-- Members are active clinicians of this clinic (users is clinic-scoped by its policy).
CREATE POLICY care_team_add ON care_team FOR INSERT
    WITH CHECK (clinic_id = app.current_tenant() AND app.patient_in_care(patient_id)
                AND added_by = app.current_user_id()
                AND EXISTS (SELECT 1 FROM users u
                            WHERE u.id = care_team.user_id AND u.role = 'clinician'
                              AND u.disabled_at IS NULL));
CREATE POLICY care_team_remove ON care_team FOR DELETE
    USING (clinic_id = app.current_tenant() AND app.patient_in_care(patient_id));

-- Grants: a clinician breaks the glass for themself; a clinician sees their own grants
-- (app.hidden_patients() reads them), an auditor the clinic's; an auditor marks an
-- unreviewed grant reviewed, once, in their own name.
ALTER TABLE emergency_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE emergency_access FORCE ROW LEVEL SECURITY;
CREATE POLICY emergency_access_read ON emergency_access FOR SELECT
    USING (clinic_id = app.current_tenant()
           AND (user_id = app.current_user_id() OR app.current_user_role() = 'auditor'));
CREATE POLICY emergency_access_break_glass ON emergency_access FOR INSERT
    WITH CHECK (clinic_id = app.current_tenant() AND user_id = app.current_user_id()
                AND app.current_user_role() = 'clinician');
CREATE POLICY emergency_access_review ON emergency_access FOR UPDATE
    USING (clinic_id = app.current_tenant() AND reviewed_at IS NULL
           AND app.current_user_role() = 'auditor')
    WITH CHECK (clinic_id = app.current_tenant() AND reviewed_by = app.current_user_id()
                AND reviewed_at IS NOT NULL);

REVOKE ALL ON patient_restrictions, care_team, emergency_access FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON patient_restrictions, care_team TO {{crate_name}}_service;
GRANT SELECT ON emergency_access TO {{crate_name}}_service;
GRANT INSERT (id, patient_id, reason) ON emergency_access TO {{crate_name}}_service;
GRANT UPDATE (reviewed_at, reviewed_by) ON emergency_access TO {{crate_name}}_service;
REVOKE TRUNCATE, REFERENCES, TRIGGER
    ON patient_restrictions, care_team, emergency_access
    FROM PUBLIC, {{crate_name}}_service;
