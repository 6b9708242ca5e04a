-- Outbound data (SPEC 4.2.9; HIPAA 164.312(b)): the egress client (src/egress) records
-- every attempt to send data to an outside vendor as an `egress` audit event, naming the
-- vendor in resource_type: `success` once permitted (written before the send), `denied`
-- when refused, `failure` when a permitted exchange did not complete.
--
-- The action list of 0006_audit.sql, plus 'egress'. Replacing a CHECK constraint checks
-- the existing rows, which all hold one of the older actions.

ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'read', 'create', 'update', 'delete', 'search', 'login', 'login_failed', 'mfa',
    'mfa_failed', 'logout', 'timeout', 'denied', 'break_glass', 'egress'));
