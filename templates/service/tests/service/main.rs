//! End-to-end tests of the service against a real PostgreSQL (see [`support`]), each named
//! after the threat it stops. One test binary, so the cluster starts once.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

// The service under a fixed name, so that no line of the tests depends on the length of
// the project's name (rustfmt lays lines out by their length).
extern crate {{crate_name}} as service;

mod support;

mod access;
mod accounts;
{%- if modules contains "appointments" %}
mod appointments;
{%- endif %}
mod audit;
mod auth;
mod break_glass;
mod config;
mod cross_site;
mod egress;
{%- if modules contains "encounters" %}
mod encounters;
{%- endif %}
mod encryption;
mod healthz;
mod http_hardening;
mod http_limits;
{%- if modules contains "notes" %}
mod notes;
{%- endif %}
mod openapi;
mod patients;
mod pool;
mod request_log;
mod seed;
mod sessions;
mod tenancy;
{%- if tls == "rustls" %}
mod tls;
{%- endif %}
{%- if ui == "web" %}
mod web;
{%- endif %}
// The resources added with `medforge add resource`, which writes between these lines.
// medforge:resource-tests:start
// medforge:resource-tests:end
