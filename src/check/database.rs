//! The database's access control, read from the migrations (and `db/*.sql` for roles):
//! row-level security on every table holding PHI, PHI columns encrypted, no role that
//! bypasses row-level security, and a service role that owns nothing.

use super::{Context, Family, Finding, Rule};
use crate::error::Result;
use crate::schema::Schema;

pub const RLS_FORCED: Rule = Rule {
    id: "rls-forced",
    title: "Row-level security is enabled and forced on every table holding PHI",
    help: "HIPAA 164.312(a)(1): a table with a `PHI:` column comment or a \
           tenant column needs ENABLE and FORCE ROW LEVEL SECURITY, never undone later.",
};

pub const PHI_ENCRYPTED: Rule = Rule {
    id: "phi-encrypted",
    title: "Every PHI column holds ciphertext, or says why it cannot",
    help: "HIPAA 164.312(a)(2)(iv): a `PHI:` column is `bytea` sealed by the \
           service (src/crypto/), so a dump or a superuser sees no plaintext. A column \
           that must stay plaintext (e.g. a time lists are ordered by) says why in its \
           comment: `PHI: what it holds; plaintext: why`.",
};

pub const NO_BYPASSRLS: Rule = Rule {
    id: "no-bypassrls",
    title: "No role is given BYPASSRLS or SUPERUSER",
    help: "Either attribute ignores row-level security: one query then reads every clinic.",
};

pub const SERVICE_ROLE_OWNS_NOTHING: Rule = Rule {
    id: "service-role-owns-nothing",
    title: "The service role owns nothing",
    help: "An owner can alter policies and disable row-level security. Migrations run as \
           the owner role; the service role (`*_service`) is only granted privileges.",
};

pub const FAMILY: Family = Family {
    rules: &[
        RLS_FORCED,
        PHI_ENCRYPTED,
        NO_BYPASSRLS,
        SERVICE_ROLE_OWNS_NOTHING,
    ],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let schema = Schema::read(ctx.project)?;
    let mut findings = Vec::new();
    for table in schema.phi_tables() {
        let why = if table.phi.is_empty() {
            format!(
                "holds clinic data (`{}`)",
                table.tenant_column().map_or("tenant", |c| c.name.as_str())
            )
        } else {
            "has PHI columns".to_owned()
        };
        let name = &table.name;
        for (setting, word, statement, consequence) in [
            (
                &table.rls_enabled,
                "enabled",
                "ENABLE",
                "so its rows are not filtered by clinic",
            ),
            (
                &table.rls_forced,
                "forced",
                "FORCE",
                "so its owner bypasses the policies",
            ),
        ] {
            let fix = format!(
                "add `ALTER TABLE {name} {statement} ROW LEVEL SECURITY;` in a new migration"
            );
            match setting {
                Some(s) if s.on => {}
                Some(s) => findings.push(Finding::at(
                    RLS_FORCED.id,
                    &s.location.file,
                    s.location.line,
                    format!(
                        "table `{name}` {why}, and row-level security is no longer {word} here, \
                         {consequence}; {fix}"
                    ),
                )),
                None => findings.push(Finding::at(
                    RLS_FORCED.id,
                    &table.location.file,
                    table.location.line,
                    format!(
                        "table `{name}` {why} but row-level security is not {word}, \
                         {consequence}; {fix}"
                    ),
                )),
            }
        }
    }
    for table in &schema.tables {
        for phi in &table.phi {
            let Some(column) = table.column(&phi.column) else {
                continue;
            };
            if column.sql_type == "bytea" || declares_plaintext(&phi.description) {
                continue;
            }
            findings.push(Finding::at(
                PHI_ENCRYPTED.id,
                &phi.location.file,
                phi.location.line,
                format!(
                    "`{}.{}` is PHI stored as `{}`, in plaintext for anyone who reads the table \
                     or a dump; store it as `bytea` sealed by the service (src/crypto/), or say \
                     why it must stay plaintext in its comment (`PHI: {}; plaintext: why`)",
                    table.name, phi.column, column.sql_type, phi.description
                ),
            ));
        }
    }
    let weakened = [
        (
            &schema.bypass,
            NO_BYPASSRLS.id,
            "gives a role BYPASSRLS or SUPERUSER, which ignores row-level security; remove it \
             (both the owner and the service role are NOBYPASSRLS NOSUPERUSER)",
        ),
        (
            &schema.service_ownership,
            SERVICE_ROLE_OWNS_NOTHING.id,
            "makes the service role an owner, and an owner can change policies and disable \
             row-level security; let the owner role own objects and GRANT the service only \
             what it needs",
        ),
    ];
    for (grants, rule, consequence) in weakened {
        for grant in grants {
            findings.push(Finding::at(
                rule,
                &grant.location.file,
                grant.location.line,
                format!("`{}` {consequence}", shorten(&grant.what)),
            ));
        }
    }
    Ok(findings)
}

/// Whether a `PHI:` comment says why its column stays plaintext (`...; plaintext: why`).
fn declares_plaintext(description: &str) -> bool {
    description.split(';').skip(1).any(|part| {
        part.trim_start()
            .to_ascii_lowercase()
            .starts_with("plaintext:")
    })
}

fn shorten(sql: &str) -> String {
    const MAX: usize = 120;
    match sql.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &sql[..at]),
        None => sql.to_owned(),
    }
}
