-- Foundation: tenancy helpers, the deployment marker, clinics, users, sessions and login
-- throttling.
--
-- Migrations run as {{crate_name}}_owner (MIGRATION_DATABASE_URL); the service connects
-- as {{crate_name}}_service, which owns nothing, cannot bypass row-level security and
-- gets only the privileges granted below (db/bootstrap.sql creates both roles).
--
-- Rules every migration follows (SPEC 4.2.2; HIPAA 164.312(a)(1) access control):
-- - every table holding PHI or tenant data has row-level security ENABLED and FORCED
--   (FORCE holds the owner to the policies too);
-- - policies read the tenant from app.current_tenant(): an unset setting is NULL, and
--   NULL matches no row, so a connection without tenant context sees nothing;
-- - every policy that admits writes has a WITH CHECK clause;
-- - the service role gets no DELETE where rows are soft-deleted, and never TRUNCATE,
--   REFERENCES or TRIGGER;
-- - views are created WITH (security_invoker = true), so the caller's policies apply;
-- - a SECURITY DEFINER function pins its search_path and has EXECUTE revoked from the
--   service role unless the service needs it (there are none so far);
-- - every PHI column carries COMMENT ON COLUMN ... IS 'PHI: ...', from which the PHI
--   inventory (compliance/) is built.

-- Nobody but the owner creates objects; the service uses what it is granted.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {{crate_name}}_service;

-- The request context. The service sets these with set_config(name, value, true) at the
-- start of each request's transaction, so they end with it and never leak to the next
-- user of a pooled connection.
CREATE SCHEMA app;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO {{crate_name}}_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- STABLE, so the planner evaluates them once per statement and indexes on clinic_id serve.
CREATE FUNCTION app.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- Set only while a login looks up the account for an email address.
CREATE FUNCTION app.login_email() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT lower(NULLIF(current_setting('app.login_email', true), '')) $$;

-- Set only while a request looks up the session for the SHA-256 of its token.
CREATE FUNCTION app.session_token_hash() RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT decode(NULLIF(current_setting('app.session_token_hash', true), ''), 'hex') $$;

-- Set only while a login reads or records its failures (SHA-256 of account and address).
CREATE FUNCTION app.throttle_key() RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT decode(NULLIF(current_setting('app.throttle_key', true), ''), 'hex') $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    app.current_tenant(), app.current_user_id(), app.login_email(),
    app.session_token_hash(), app.throttle_key()
    TO {{crate_name}}_service;

-- What this database is. `seed` refuses anything but 'development' (SPEC 4.2.8): a fresh
-- database is 'unmarked' until `migrate` marks it with APP_ENV, and 'production' is final.
CREATE TABLE deployment (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    environment text NOT NULL CHECK (environment IN ('unmarked', 'development', 'production')),
    marked_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment (environment) VALUES ('unmarked');

CREATE FUNCTION app.deployment_is_final() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the deployment marker cannot be deleted';
    END IF;
    IF OLD.environment = 'production' AND NEW.environment <> 'production' THEN
        RAISE EXCEPTION 'a database marked production stays production';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER deployment_is_final BEFORE UPDATE OR DELETE ON deployment
    FOR EACH ROW EXECUTE FUNCTION app.deployment_is_final();

REVOKE ALL ON deployment FROM PUBLIC;
GRANT SELECT ON deployment TO {{crate_name}}_service;

-- Tenants. A clinic sees its own row only.
CREATE TABLE clinics (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
{%- if tenancy == "single" %}
-- tenancy = single: one clinic in this database.
CREATE UNIQUE INDEX clinics_only_one ON clinics ((true));
{%- endif %}

ALTER TABLE clinics ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinics FORCE ROW LEVEL SECURITY;
CREATE POLICY clinics_own ON clinics
    USING (id = app.current_tenant())
    WITH CHECK (id = app.current_tenant());

REVOKE ALL ON clinics FROM PUBLIC;
GRANT SELECT, INSERT ON clinics TO {{crate_name}}_service;

-- Accounts. An email address identifies one account across all clinics, because login
-- happens before the clinic is known.
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role text NOT NULL CHECK (role IN ('admin', 'clinician', 'staff', 'auditor')),
    -- Argon2id PHC string.
    password_hash text NOT NULL,
    -- RFC 6238 shared secret, and the last time step accepted (a code is used once).
    totp_secret bytea,
    totp_last_step bigint,
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_clinic ON users (clinic_id);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own_clinic ON users
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
-- During login, before the clinic is known: the one account with this email.
CREATE POLICY users_login ON users FOR SELECT
    USING (email = app.login_email());

REVOKE ALL ON users FROM PUBLIC;
GRANT SELECT, INSERT ON users TO {{crate_name}}_service;
GRANT UPDATE (password_hash, totp_secret, totp_last_step, disabled_at)
    ON users TO {{crate_name}}_service;

-- Sessions. Only the SHA-256 of a token is stored: a copy of this table logs nobody in.
CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    -- Password accepted, TOTP code still owed: such a session opens no route but /auth/mfa.
    mfa_pending boolean NOT NULL,
    mfa_failures integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own_clinic ON sessions
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
-- While a request presents its token, before the clinic is known: that one session.
CREATE POLICY sessions_presented ON sessions FOR SELECT
    USING (token_hash = app.session_token_hash());

REVOKE ALL ON sessions FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON sessions TO {{crate_name}}_service;
GRANT UPDATE (last_seen_at, mfa_failures) ON sessions TO {{crate_name}}_service;

-- Failed logins per account and source address (SHA-256 of both, no plain email or IP).
CREATE TABLE login_throttle (
    key bytea PRIMARY KEY CHECK (length(key) = 32),
    failures integer NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);

ALTER TABLE login_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY login_throttle_own_key ON login_throttle
    USING (key = app.throttle_key())
    WITH CHECK (key = app.throttle_key());
-- Rows a day past their last failure may be swept by anyone; they hold nothing but a hash.
CREATE POLICY login_throttle_stale_read ON login_throttle FOR SELECT
    USING (last_failure_at < now() - interval '1 day');
CREATE POLICY login_throttle_stale_sweep ON login_throttle FOR DELETE
    USING (last_failure_at < now() - interval '1 day');

REVOKE ALL ON login_throttle FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO {{crate_name}}_service;

-- Belt and braces: whatever was granted above, never these.
REVOKE TRUNCATE, REFERENCES, TRIGGER
    ON deployment, clinics, users, sessions, login_throttle
    FROM PUBLIC, {{crate_name}}_service;
