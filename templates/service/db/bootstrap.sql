-- The two database roles of {{project-name}}. Run once per PostgreSQL cluster, as a
-- superuser (or a role with CREATEROLE):
--
--   psql "$ADMIN_DATABASE_URL" -v ON_ERROR_STOP=1 -f db/bootstrap.sql
--
-- then give both roles passwords without a prompt (ALTER ROLE ... PASSWORD through psql
-- variables), create the database owned by the owner role (CREATE DATABASE ... OWNER
-- {{crate_name}}_owner), and run the migrations as the owner: README.md, "Database", has
-- the commands, and `medforge db setup` runs this script, creates the database and
-- migrates. Running it again changes nothing but re-asserts the attributes below.
--
-- HIPAA 164.312(a)(1) access control:
-- - {{crate_name}}_owner owns the schema and runs the migrations. It is not a superuser
--   and cannot bypass row-level security; FORCE ROW LEVEL SECURITY holds it to the
--   policies too.
-- - {{crate_name}}_service is what the service connects as. It owns nothing, cannot
--   bypass row-level security, and has only the privileges the migrations grant it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{crate_name}}_owner') THEN
        CREATE ROLE {{crate_name}}_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{crate_name}}_service') THEN
        CREATE ROLE {{crate_name}}_service LOGIN;
    END IF;
END
$$;

ALTER ROLE {{crate_name}}_owner
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
ALTER ROLE {{crate_name}}_service
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
