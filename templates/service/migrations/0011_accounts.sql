-- Accounts over the API: invitations, password resets, TOTP enrollment, recovery codes,
-- role changes and the sessions an account can see and end (HIPAA 164.308(a)(3)(ii)(C)
-- termination procedures, 164.308(a)(4) access authorization, 164.312(a)(2)(i) unique
-- user identification; OWASP ASVS V6, V7).
--
-- A new migration, after the highest one: a migration a database may have applied is
-- never edited.

-- Set only while a request looks up the invitation or reset token it presents, by the
-- token's selector (its first half; the second half is checked against a hash).
CREATE FUNCTION app.account_token_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.account_token_id', true), '')::uuid $$;
REVOKE ALL ON FUNCTION app.account_token_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.account_token_id() TO {{crate_name}}_service;

-- Single-use tokens an admin hands out of band: an invitation (an email and a role, no
-- account yet) or a password reset (an existing account). A token is a selector (`id`)
-- and a 256-bit verifier from the CSPRNG; only the verifier's SHA-256 is stored, so a
-- copy of this table lets nobody in. `used_at` makes it single-use.
CREATE TABLE account_tokens (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    purpose text NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    verifier_hash bytea NOT NULL CHECK (length(verifier_hash) = 32),
    -- An invitation's address and role; a reset's account.
    email text CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role text CHECK (role IN ('admin', 'clinician', 'staff', 'auditor')),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CHECK (expires_at > created_at),
    CHECK (CASE purpose
        WHEN 'invitation' THEN email IS NOT NULL AND role IS NOT NULL AND user_id IS NULL
        ELSE user_id IS NOT NULL AND email IS NULL AND role IS NULL
    END)
);
CREATE INDEX account_tokens_clinic ON account_tokens (clinic_id);
CREATE INDEX account_tokens_user ON account_tokens (user_id) WHERE user_id IS NOT NULL;

ALTER TABLE account_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY account_tokens_own_clinic ON account_tokens
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
-- While a request presents a token, before the clinic is known: that one token.
CREATE POLICY account_tokens_presented ON account_tokens FOR SELECT
    USING (id = app.account_token_id());
REVOKE ALL ON account_tokens FROM PUBLIC;
GRANT SELECT, INSERT ON account_tokens TO {{crate_name}}_service;
GRANT UPDATE (used_at) ON account_tokens TO {{crate_name}}_service;

-- Recovery codes: ten per account, each 256 bits from the CSPRNG, stored as SHA-256 only,
-- each accepted once (NIST SP 800-63B §5.1.2 look-up secrets).
CREATE TABLE recovery_codes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY recovery_codes_own_clinic ON recovery_codes
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
REVOKE ALL ON recovery_codes FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON recovery_codes TO {{crate_name}}_service;
GRANT UPDATE (used_at) ON recovery_codes TO {{crate_name}}_service;

-- An invited account's TOTP secret until its first code confirms it (sealed like the
-- enrolled one), and the time of its last completed sign-in, for the admins' list.
ALTER TABLE users
    ADD COLUMN totp_pending_sealed bytea,
    ADD COLUMN last_sign_in_at timestamptz;
COMMENT ON COLUMN users.totp_pending_sealed IS
    'Credential: TOTP shared secret awaiting confirmation, AES-256-GCM sealed with the clinic data key';
GRANT UPDATE (role, totp_pending_sealed, last_sign_in_at) ON users TO {{crate_name}}_service;

-- A session that may only confirm its TOTP enrollment; when its second factor was given
-- (a step-up for sensitive changes); where it signed in from, for the owner's list.
ALTER TABLE sessions
    ADD COLUMN enrolling boolean NOT NULL DEFAULT false,
    ADD COLUMN mfa_at timestamptz,
    ADD COLUMN source inet,
    ADD CHECK (NOT enrolling OR mfa_pending);

REVOKE TRUNCATE, REFERENCES, TRIGGER ON account_tokens, recovery_codes
    FROM PUBLIC, {{crate_name}}_service;

-- The account steps, each audited in the transaction that makes it.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'read', 'create', 'update', 'delete', 'search', 'login', 'login_failed', 'mfa',
    'mfa_failed', 'logout', 'timeout', 'denied', 'break_glass', 'egress', 'probe',
    'create_clinic', 'create_user', 'disable_user', 'unlock_user', 'rotate_keys', 'seed',
    'audit_checkpoint', 'invite_user', 'accept_invitation', 'enroll_mfa', 'change_role',
    'enable_user', 'reset_password', 'complete_password_reset', 'change_password',
    'use_recovery_code', 'renew_recovery_codes', 'revoke_session'));
