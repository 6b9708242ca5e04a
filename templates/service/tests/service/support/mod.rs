//! The test harness: a real PostgreSQL for every test, never a mock.
//!
//! Without `DATABASE_URL`, this test binary starts one throwaway cluster
//! (`tools/pg-throwaway`: initdb into a temporary directory, a free port on 127.0.0.1, run
//! as the `postgres` user when the tests run as root), creates the two roles, and migrates
//! one template database. Each test gets its own copy of the template, so tests are
//! isolated and run in parallel. The cluster is removed when the test binary exits, passed
//! or failed. With `DATABASE_URL`, the tests use that cluster instead: it must be an
//! administrator's URL on a disposable cluster (the harness creates roles and databases).
//!
//! [`TestApp`] is the service on such a database, with a [`ManualClock`] the tests move
//! instead of sleeping, and helpers to create accounts, sign in and call the API.

#![allow(
    dead_code,
    reason = "each test module uses a different part of the harness"
)]

pub mod account_api;
mod app;
mod database;
mod logs;

pub use app::*;
pub use database::*;
pub use logs::*;
