-- The audit trail (SPEC 4.2.4; HIPAA 164.312(b) audit controls, 164.312(c)(1) integrity;
-- GDPR Art. 30/32; nDSG Art. 12): one event per access to PHI, per login, MFA step,
-- logout, timeout and denial, written in the transaction of the access it records.
--
-- Numbered after every module migration (0003-0005 exist only with their module), so it
-- sorts last whatever modules a project has.
--
-- Append-only: the service role may INSERT and SELECT, nothing else; triggers refuse
-- UPDATE, DELETE and TRUNCATE for every role, the owner included, until someone disables
-- them. Tamper evidence for that case: each clinic's events form a hash chain,
-- hash = SHA-256(prev_hash || canonical record), computed by the service (src/audit/chain.rs
-- documents the byte encoding) and checked by GET /audit/verify and `verify-audit`.

CREATE TABLE audit_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- 1, 2, 3, ... per clinic: a gap is a deleted event.
    seq bigint NOT NULL CHECK (seq > 0),
    -- Microsecond precision, as hashed.
    occurred_at timestamptz NOT NULL,
    -- The account that acted; its role at the time. Never an email address or a name.
    actor_user_id uuid,
    actor_role text CHECK (actor_role IN ('admin', 'clinician', 'staff', 'auditor')),
    action text NOT NULL CHECK (action IN (
        'read', 'create', 'update', 'delete', 'search', 'login', 'login_failed', 'mfa',
        'mfa_failed', 'logout', 'timeout', 'denied', 'break_glass')),
    -- What was touched: a table name and an opaque id, never PHI.
    resource_type text CHECK (length(resource_type) BETWEEN 1 AND 64),
    resource_id uuid,
    outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    request_id uuid,
    -- The client's IP address, as text.
    source_address text CHECK (length(source_address) <= 64),
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    UNIQUE (clinic_id, seq)
);
CREATE INDEX audit_events_resource ON audit_events (clinic_id, resource_type, resource_id);
CREATE INDEX audit_events_actor ON audit_events (clinic_id, actor_user_id);

-- The end of each clinic's chain. Appending locks this row (SELECT ... FOR UPDATE) in the
-- transaction of the access, so concurrent requests of one clinic append one at a time
-- and never fork the chain.
CREATE TABLE audit_heads (
    clinic_id uuid PRIMARY KEY DEFAULT app.current_tenant() REFERENCES clinics (id),
    seq bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- HIPAA 164.312(c)(1): recorded events never change, whoever asks.
CREATE FUNCTION app.audit_is_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog
    AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (%)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION app.audit_is_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION app.audit_is_append_only();

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_read_own_clinic ON audit_events FOR SELECT
    USING (clinic_id = app.current_tenant());
CREATE POLICY audit_events_append_own_clinic ON audit_events FOR INSERT
    WITH CHECK (clinic_id = app.current_tenant());
-- `verify-audit` runs as the owner and checks every clinic's chain. The owner can change
-- policies anyway; reading is all this grants.
CREATE POLICY audit_events_owner_verifies ON audit_events FOR SELECT
    TO {{crate_name}}_owner USING (true);

ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_heads_own_clinic ON audit_heads
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
CREATE POLICY audit_heads_owner_verifies ON audit_heads FOR SELECT
    TO {{crate_name}}_owner USING (true);

REVOKE ALL ON audit_events, audit_heads FROM PUBLIC;
-- HIPAA 164.312(b): the service appends and reads, nothing more.
GRANT SELECT, INSERT ON audit_events TO {{crate_name}}_service;
GRANT SELECT, INSERT ON audit_heads TO {{crate_name}}_service;
GRANT UPDATE (seq, hash) ON audit_heads TO {{crate_name}}_service;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON audit_events FROM PUBLIC, {{crate_name}}_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON audit_heads FROM PUBLIC, {{crate_name}}_service;
