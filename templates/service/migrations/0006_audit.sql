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
-- hash = SHA-256(prev_hash || canonical record), appended by app.audit_append below from
-- the encoding the service computes (src/audit/chain.rs documents the bytes) and checked by
-- GET /audit/verify and `verify-audit`, which recompute every hash in the service.

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

-- Appends events to the chain of p_clinic in one round trip: locks the head, numbers the
-- events after it, links each to the one before, and moves the head. The service
-- computes each event's canonical encoding (src/audit/chain.rs) in two parts, before and
-- after its number, since only the database knows the number: p_before (the same for
-- every event of a clinic) and p_after[i]. Here the number is put between them as its
-- encoded field (0x01, length 8, the 64-bit big-endian value) and hashed:
--   hash = SHA-256(prev_hash || p_before || field(seq) || p_after[i]).
-- The verifier recomputes every hash from the stored columns alone, so an append here
-- that disagreed with the encoding would be reported as a broken chain at once.
-- SECURITY INVOKER: it runs with the caller's privileges and row-level security; it
-- exists to keep the head locked for as short a time as possible (every other access of
-- the clinic waits on it), not to grant anything.
CREATE FUNCTION app.audit_append(
    p_clinic uuid,
    p_before bytea,
    p_after bytea[],
    p_id uuid[],
    p_occurred_at timestamptz,
    p_actor_user_id uuid,
    p_actor_role text,
    p_action text[],
    p_resource_type text[],
    p_resource_id uuid[],
    p_outcome text[],
    p_request_id uuid,
    p_source_address text
) RETURNS bigint
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    next_hash bytea;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash
        FROM audit_heads WHERE clinic_id = p_clinic FOR UPDATE;
    IF NOT FOUND THEN
        -- The clinic's first event; a concurrent first event may create the head first.
        INSERT INTO audit_heads (clinic_id, seq, hash)
            VALUES (p_clinic, 0, decode(repeat('00', 32), 'hex'))
            ON CONFLICT (clinic_id) DO NOTHING;
        SELECT seq, hash INTO STRICT head_seq, head_hash
            FROM audit_heads WHERE clinic_id = p_clinic FOR UPDATE;
    END IF;
    FOR i IN 1 .. coalesce(cardinality(p_id), 0) LOOP
        head_seq := head_seq + 1;
        next_hash := sha256(head_hash || p_before || '\x0100000008'::bytea
                            || int8send(head_seq) || p_after[i]);
        INSERT INTO audit_events (id, clinic_id, seq, occurred_at, actor_user_id, actor_role,
                                  action, resource_type, resource_id, outcome, request_id,
                                  source_address, prev_hash, hash)
            VALUES (p_id[i], p_clinic, head_seq, p_occurred_at, p_actor_user_id,
                    p_actor_role, p_action[i], p_resource_type[i], p_resource_id[i],
                    p_outcome[i], p_request_id, p_source_address, head_hash, next_hash);
        head_hash := next_hash;
    END LOOP;
    UPDATE audit_heads SET seq = head_seq, hash = head_hash WHERE clinic_id = p_clinic;
    RETURN head_seq;
END
$$;
REVOKE ALL ON FUNCTION app.audit_append FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.audit_append TO {{crate_name}}_service;

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
