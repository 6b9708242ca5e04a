-- Security hardening after an outside review: sign-in limits kept in the database, sealed
-- TOTP secrets, and an audit trail the service role can append to but never write.
--
-- A new migration, after the highest one: a migration a database may have applied is
-- never edited.

-- Sign-in failures per account, across every source address (NIST SP 800-63B §5.2.2:
-- at most 100 consecutive failed attempts on one account). Every attempt is counted
-- before its password or code is checked, in the transaction that checks the limit, so a
-- parallel burst cannot slip past it; a completed sign-in (second factor included)
-- clears the count. `usual_network` is the SHA-256 of the network the account last
-- completed a sign-in from: the account-wide delays never apply there, so nobody
-- elsewhere can lock the owner out of their own network.
ALTER TABLE users
    ADD COLUMN failed_sign_ins integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    ADD COLUMN sign_in_locked_until timestamptz,
    ADD COLUMN usual_network bytea CHECK (length(usual_network) = 32),
    -- The RFC 6238 shared secret, sealed with the clinic's data key (AES-256-GCM; the
    -- clinic, table, column and account are its associated data). `totp_secret` held it
    -- in plaintext before; a sign-in moves such a secret here and clears the old column.
    ADD COLUMN totp_secret_sealed bytea;
COMMENT ON COLUMN users.totp_secret_sealed IS
    'Credential: TOTP shared secret, AES-256-GCM sealed with the clinic data key';
GRANT UPDATE (failed_sign_ins, sign_in_locked_until, usual_network, totp_secret_sealed)
    ON users TO {{crate_name}}_service;

-- Calls to the authentication routes per source network (an IPv4 address, or an IPv6
-- /64), across every service instance: a restart or a second instance does not reset
-- them (OWASP ASVS V2.2.1 anti-automation). The key is a SHA-256; the table holds no
-- address.
CREATE TABLE auth_rate_limit (
    key bytea PRIMARY KEY CHECK (length(key) = 32),
    window_started_at timestamptz NOT NULL,
    calls integer NOT NULL CHECK (calls >= 0)
);
CREATE INDEX auth_rate_limit_window ON auth_rate_limit (window_started_at);

ALTER TABLE auth_rate_limit ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_rate_limit FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_rate_limit_own_key ON auth_rate_limit
    USING (key = app.throttle_key())
    WITH CHECK (key = app.throttle_key());
CREATE POLICY auth_rate_limit_stale_sweep ON auth_rate_limit FOR DELETE
    USING (window_started_at < now() - interval '1 hour');
CREATE POLICY auth_rate_limit_stale_read ON auth_rate_limit FOR SELECT
    USING (window_started_at < now() - interval '1 hour');
REVOKE ALL ON auth_rate_limit FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth_rate_limit TO {{crate_name}}_service;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON auth_rate_limit FROM PUBLIC, {{crate_name}}_service;

-- Counts one call for `network_key` at `at` and returns the calls in its current window
-- of `window_seconds` and when that window started: one round trip per call. SECURITY
-- INVOKER: it runs with the caller's privileges and row-level security, and opens only
-- the key it was given.
CREATE FUNCTION app.count_auth_call(network_key bytea, at timestamptz, window_seconds integer,
                                    OUT call_count integer, OUT window_start timestamptz)
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('app.throttle_key', pg_catalog.encode(network_key, 'hex'), true);
    INSERT INTO public.auth_rate_limit AS l (key, window_started_at, calls)
        VALUES (network_key, at, 1)
    ON CONFLICT (key) DO UPDATE SET
        calls = CASE WHEN l.window_started_at <= at - pg_catalog.make_interval(secs => window_seconds)
                     THEN 1 ELSE l.calls + 1 END,
        window_started_at = CASE
            WHEN l.window_started_at <= at - pg_catalog.make_interval(secs => window_seconds)
            THEN at ELSE l.window_started_at END
    RETURNING l.calls, l.window_started_at INTO call_count, window_start;
    IF call_count = 1 THEN
        -- A new window: sweep the networks that have been quiet for an hour.
        DELETE FROM public.auth_rate_limit AS stale
            WHERE stale.window_started_at < at - interval '1 hour';
    END IF;
    PERFORM pg_catalog.set_config('app.throttle_key', '', true);
END
$$;
REVOKE ALL ON FUNCTION app.count_auth_call(bytea, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.count_auth_call(bytea, timestamptz, integer)
    TO {{crate_name}}_service;

-- The audit trail against the database roles (HIPAA 164.312(b), 164.312(c)(1)).
--
-- Temporary tables: a session that may create them can shadow any unqualified table
-- name, since pg_temp is searched first unless it is named last. The service role gets
-- no TEMPORARY privilege on the database (the database owner revokes it from PUBLIC),
-- and every function below names every object with its schema and searches pg_temp last.
DO $$
BEGIN
    EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, %I',
                              pg_catalog.current_database(), '{{crate_name}}_service');
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'only the owner of database % can revoke TEMPORARY from PUBLIC: run '
                  'REVOKE TEMPORARY ON DATABASE % FROM PUBLIC as its owner',
                  pg_catalog.current_database(), pg_catalog.current_database();
END
$$;

-- The chain is written by this function alone, owned by the migrating role and run with
-- its rights (SECURITY DEFINER): the service role keeps only INSERT on audit_pending, so
-- it can neither forge a chained event nor rewind a clinic's head. Only the owner can
-- still store a row out of turn; GET /audit/verify reports it (200, ok: false) even while
-- that row keeps the chain from taking new events. (A per-event probe that stepped over
-- taken numbers cost a third of an audited read's throughput: the owner, who can drop the
-- table, is not the threat it would guard against.)
CREATE OR REPLACE FUNCTION app.audit_chain_pending() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    next_hash bytea;
BEGIN
    SELECT h.seq, h.hash INTO head_seq, head_hash
        FROM public.audit_heads AS h WHERE h.clinic_id = NEW.clinic_id FOR UPDATE;
    IF NOT FOUND THEN
        -- The clinic's first event; a concurrent first event may create the head first.
        INSERT INTO public.audit_heads (clinic_id, seq, hash)
            VALUES (NEW.clinic_id, 0, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'))
            ON CONFLICT (clinic_id) DO NOTHING;
        SELECT h.seq, h.hash INTO STRICT head_seq, head_hash
            FROM public.audit_heads AS h WHERE h.clinic_id = NEW.clinic_id FOR UPDATE;
    END IF;
    head_seq := head_seq + 1;
    next_hash := pg_catalog.sha256(head_hash || NEW.before_seq || '\x0100000008'::bytea
                                   || pg_catalog.int8send(head_seq) || NEW.after_seq);
    INSERT INTO public.audit_events (id, clinic_id, seq, occurred_at, actor_user_id,
                                     actor_role, action, resource_type, resource_id,
                                     outcome, request_id, source_address, prev_hash, hash)
        VALUES (NEW.id, NEW.clinic_id, head_seq, NEW.occurred_at, NEW.actor_user_id,
                NEW.actor_role, NEW.action, NEW.resource_type, NEW.resource_id, NEW.outcome,
                NEW.request_id, NEW.source_address, head_hash, next_hash);
    UPDATE public.audit_heads SET seq = head_seq, hash = next_hash
        WHERE clinic_id = NEW.clinic_id;
    DELETE FROM public.audit_pending WHERE id = NEW.id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.audit_chain_pending() FROM PUBLIC, {{crate_name}}_service;

CREATE OR REPLACE FUNCTION app.audit_is_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (%)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The service role appends to audit_pending and reads the chain; nothing else.
REVOKE INSERT ON audit_events FROM {{crate_name}}_service;
REVOKE INSERT, UPDATE ON audit_heads FROM {{crate_name}}_service;
REVOKE SELECT, DELETE ON audit_pending FROM {{crate_name}}_service;

-- The actions of the administrative commands, and of possible existence probes.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'read', 'create', 'update', 'delete', 'search', 'login', 'login_failed', 'mfa',
    'mfa_failed', 'logout', 'timeout', 'denied', 'break_glass', 'egress', 'probe',
    'create_clinic', 'create_user', 'disable_user', 'unlock_user', 'rotate_keys', 'seed',
    'audit_checkpoint'));

-- `audit-checkpoint` and `verify-audit` run as the owner and must see every clinic, so a
-- clinic whose chain was deleted whole is still named.
CREATE POLICY clinics_owner_lists ON clinics FOR SELECT
    TO {{crate_name}}_owner USING (true);
