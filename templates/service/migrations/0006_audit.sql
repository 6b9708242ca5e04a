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
-- hash = SHA-256(prev_hash || canonical record), chained at commit by the trigger below
-- from the encoding the service computes (src/audit/chain.rs documents the bytes) and
-- checked by GET /audit/verify and `verify-audit`, which recompute every hash in the
-- service.

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

-- Events are written to audit_pending in the transaction of the access, and chained into
-- audit_events when that transaction commits, by a deferred constraint trigger: it locks
-- the clinic's head, numbers the event after it, links it to the one before, stores it
-- and moves the head. The head stays locked from then until the commit completes, all of
-- it inside the database, so the clinic's other accesses, which wait on that lock, never
-- wait for a network round trip. An event that cannot be chained fails the commit, and the
-- access with it: no access without its record.
--
-- The service computes each event's canonical encoding (src/audit/chain.rs) in the parts
-- before and after its number, since only the chain knows the number; the trigger puts
-- the number between them as its encoded field (0x01, length 8, the 64-bit big-endian
-- value) and hashes: hash = SHA-256(prev_hash || before_seq || field(seq) || after_seq).
-- The verifier recomputes every hash from the stored columns alone, so a chaining that
-- disagreed with the encoding would be reported as a broken chain at once.
CREATE TABLE audit_pending (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant(),
    before_seq bytea NOT NULL,
    after_seq bytea NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_user_id uuid,
    actor_role text,
    action text NOT NULL,
    resource_type text,
    resource_id uuid,
    outcome text NOT NULL,
    request_id uuid,
    source_address text
);

-- SECURITY INVOKER: it chains with the privileges and row-level security of the role
-- that recorded the events; it grants nothing.
CREATE FUNCTION app.audit_chain_pending() RETURNS trigger
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    next_hash bytea;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash
        FROM audit_heads WHERE clinic_id = NEW.clinic_id FOR UPDATE;
    IF NOT FOUND THEN
        -- The clinic's first event; a concurrent first event may create the head first.
        INSERT INTO audit_heads (clinic_id, seq, hash)
            VALUES (NEW.clinic_id, 0, decode(repeat('00', 32), 'hex'))
            ON CONFLICT (clinic_id) DO NOTHING;
        SELECT seq, hash INTO STRICT head_seq, head_hash
            FROM audit_heads WHERE clinic_id = NEW.clinic_id FOR UPDATE;
    END IF;
    head_seq := head_seq + 1;
    next_hash := sha256(head_hash || NEW.before_seq || '\x0100000008'::bytea
                        || int8send(head_seq) || NEW.after_seq);
    INSERT INTO audit_events (id, clinic_id, seq, occurred_at, actor_user_id, actor_role,
                              action, resource_type, resource_id, outcome, request_id,
                              source_address, prev_hash, hash)
        VALUES (NEW.id, NEW.clinic_id, head_seq, NEW.occurred_at, NEW.actor_user_id,
                NEW.actor_role, NEW.action, NEW.resource_type, NEW.resource_id, NEW.outcome,
                NEW.request_id, NEW.source_address, head_hash, next_hash);
    UPDATE audit_heads SET seq = head_seq, hash = next_hash WHERE clinic_id = NEW.clinic_id;
    DELETE FROM audit_pending WHERE id = NEW.id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.audit_chain_pending() FROM PUBLIC;

-- Deferred: fires at commit, in the order the events were recorded.
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION app.audit_chain_pending();

ALTER TABLE audit_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_pending_own_clinic ON audit_pending
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
REVOKE ALL ON audit_pending FROM PUBLIC;
-- Recorded and chained within one transaction; never seen committed.
GRANT SELECT, INSERT, DELETE ON audit_pending TO {{crate_name}}_service;
REVOKE UPDATE, TRUNCATE, REFERENCES, TRIGGER ON audit_pending FROM PUBLIC, {{crate_name}}_service;

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
