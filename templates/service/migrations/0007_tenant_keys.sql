-- Per-clinic encryption keys (SPEC 4.2.3; HIPAA 164.312(a)(2)(iv)).
--
-- Every PHI column holds AES-256-GCM ciphertext made by the service (src/crypto/). The
-- keys that made it are here, each clinic's own, and only ever wrapped: sealed under the
-- key-encryption key, which lives outside the database (the key provider). A dump of
-- this database, read by a superuser or stolen from a backup, opens nothing.
--
-- - purpose 'data': the data keys, one row per version; the highest seals new values,
--   every version keeps opening the values it sealed;
-- - purpose 'blind_index': the HMAC-SHA256 key of the exact-match search indexes.
-- kek_id names the key-encryption key that wrapped the row (a hash prefix, not the key),
-- so `rotate-keys` knows which rows still need re-wrapping.

CREATE TABLE tenant_keys (
    clinic_id uuid NOT NULL DEFAULT app.current_tenant() REFERENCES clinics (id),
    purpose text NOT NULL CHECK (purpose IN ('data', 'blind_index')),
    version integer NOT NULL CHECK (version >= 1),
    -- nonce (12 bytes), the sealed 32-byte key and its 16-byte tag.
    wrapped_key bytea NOT NULL CHECK (length(wrapped_key) = 60),
    kek_id text NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz,
    PRIMARY KEY (clinic_id, purpose, version),
    -- One blind-index key per clinic: a second would split the indexes.
    CHECK (purpose = 'data' OR version = 1)
);

ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_keys_own_clinic ON tenant_keys
    USING (clinic_id = app.current_tenant())
    WITH CHECK (clinic_id = app.current_tenant());
-- `rotate-keys` runs as the owner and re-wraps every clinic's keys.
CREATE POLICY tenant_keys_owner_rotates ON tenant_keys
    TO {{crate_name}}_owner USING (true) WITH CHECK (true);

REVOKE ALL ON tenant_keys FROM PUBLIC;
-- The service reads its clinic's keys and creates the first ones; it never changes or
-- removes one (a lost key is lost data).
GRANT SELECT, INSERT ON tenant_keys TO {{crate_name}}_service;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON tenant_keys FROM PUBLIC, {{crate_name}}_service;
