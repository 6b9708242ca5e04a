//! The tests that need a real PostgreSQL cluster or build a generated project: minutes
//! each on a small machine. Skipped by the fast tier (`-- --skip slow::`).

mod add;
mod db;
mod generated_project;
mod guardrails_in_generated_project;
mod migrations;
