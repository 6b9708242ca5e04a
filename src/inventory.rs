//! The PHI inventory: the part of the compliance docs (SPEC 4.4) that medforge computes
//! rather than the template, listing every column the migrations mark
//! `COMMENT ON COLUMN t.c IS 'PHI: ...'`, where it is stored and how it is protected.
//!
//! `compliance/phi-inventory.md` is a template file with a marked section; after each
//! render (`new`, `update`) medforge fills the section from the migrations of the tree it
//! sits in, so the inventory always describes the schema next to it.

use std::path::Path;

use crate::error::Result;
use crate::fs::{read_optional, write_atomic};
use crate::schema::{MIGRATIONS_DIR, Schema, Table};

pub const INVENTORY_FILE: &str = "compliance/phi-inventory.md";

const START: &str = "<!-- medforge:phi-inventory:start -->";
const END: &str = "<!-- medforge:phi-inventory:end -->";

/// Fills the PHI inventory of the tree at `root` from its migrations. A tree without the
/// inventory file (a team template without it) is left alone.
pub fn fill_file(root: &Path, data_residency: &str) -> Result<()> {
    let path = root.join(INVENTORY_FILE);
    let Some(doc) = read_optional(&path)? else {
        return Ok(());
    };
    let doc = String::from_utf8_lossy(&doc);
    let schema = Schema::read(root)?;
    if let Some(filled) = fill(&doc, &schema, data_residency) {
        write_atomic(&path, filled.as_bytes(), None)?;
    }
    Ok(())
}

/// The document with its marked section replaced by the inventory of `schema`, or `None`
/// when the markers are gone (the section is then the project's own).
pub fn fill(doc: &str, schema: &Schema, data_residency: &str) -> Option<String> {
    let start = doc.find(START)? + START.len();
    let end = start + doc[start..].find(END)?;
    Some(format!(
        "{}\n{}{}",
        &doc[..start],
        section(schema, data_residency),
        &doc[end..]
    ))
}

/// The inventory section: one row per PHI column.
pub fn section(schema: &Schema, data_residency: &str) -> String {
    if schema.files.is_empty() {
        return format!(
            "No migrations yet: `{MIGRATIONS_DIR}/` holds no `*.sql` file, so this project \
             stores no PHI in its database. Mark every PHI column in its migration with \
             `COMMENT ON COLUMN table.column IS 'PHI: what it holds';` and this table fills \
             itself on the next `medforge update`.\n"
        );
    }
    let rows: Vec<String> = schema
        .tables
        .iter()
        .flat_map(|table| {
            table.phi.iter().map(move |phi| {
                let sql_type = table
                    .column(&phi.column)
                    .map_or("type not declared in the migrations", |c| &c.sql_type);
                format!(
                    "| `{}` | `{}` | {} | PostgreSQL, `{}`, region `{data_residency}` | {} | [{}](../{}#L{}) |\n",
                    table.name,
                    phi.column,
                    escape(&phi.description),
                    sql_type,
                    protection(table, sql_type),
                    phi.location.file,
                    phi.location.file,
                    phi.location.line,
                )
            })
        })
        .collect();
    if rows.is_empty() {
        return format!(
            "The migrations mark no column as PHI. Mark every PHI column in its migration with \
             `COMMENT ON COLUMN table.column IS 'PHI: what it holds';` (migrations read: {}).\n",
            schema.files.len()
        );
    }
    let mut out = String::from(
        "| Table | Column | What it holds | Where it is stored | How it is protected | Declared in |\n\
         |---|---|---|---|---|---|\n",
    );
    out.extend(rows);
    out
}

fn protection(table: &Table, sql_type: &str) -> String {
    let mut parts = Vec::new();
    if sql_type == "bytea" {
        parts.push("encrypted in the application (AES-256-GCM) before it is stored".to_owned());
    } else {
        parts.push("not encrypted at the column level".to_owned());
    }
    if table.rls_enforced() {
        parts.push("row-level security enabled and forced".to_owned());
    } else {
        parts.push("**row-level security not enforced** (`medforge check` reports it)".to_owned());
    }
    if let Some(tenant) = table.tenant_column() {
        parts.push(format!("rows scoped to one clinic (`{}`)", tenant.name));
    }
    parts.push("encrypted in transit (TLS)".to_owned());
    parts.join("; ")
}

/// Keeps a description from breaking the Markdown table.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# PHI inventory\n\nIntro.\n\n<!-- medforge:phi-inventory:start -->\nplaceholder\n<!-- medforge:phi-inventory:end -->\n\nOutro.\n";

    fn schema(sql: &str) -> Schema {
        Schema::from_sources(vec![(
            "migrations/0001_init.sql".to_owned(),
            sql.to_owned(),
        )])
    }

    #[test]
    fn every_phi_column_gets_a_row_with_storage_and_protection() {
        let schema = schema(
            "CREATE TABLE patients (id uuid, clinic_id uuid, name bytea, born date);\n\
             COMMENT ON COLUMN patients.name IS 'PHI: full | name';\n\
             COMMENT ON COLUMN patients.born IS 'PHI: date of birth';\n\
             ALTER TABLE patients ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE patients FORCE ROW LEVEL SECURITY;\n",
        );
        let doc = fill(DOC, &schema, "ch").unwrap();
        assert!(doc.starts_with("# PHI inventory\n"), "{doc}");
        assert!(
            doc.ends_with("<!-- medforge:phi-inventory:end -->\n\nOutro.\n"),
            "{doc}"
        );
        assert!(!doc.contains("placeholder"), "{doc}");
        assert!(
            doc.contains(
                "| `patients` | `name` | full \\| name | PostgreSQL, `bytea`, region `ch` | \
                 encrypted in the application (AES-256-GCM) before it is stored; row-level \
                 security enabled and forced; rows scoped to one clinic (`clinic_id`); \
                 encrypted in transit (TLS) | [migrations/0001_init.sql](../migrations/0001_init.sql#L2) |"
            ),
            "{doc}"
        );
        assert!(
            doc.contains("| `patients` | `born` | date of birth |"),
            "{doc}"
        );
        // Filling again replaces the section rather than adding to it.
        assert_eq!(fill(&doc, &schema, "ch").unwrap(), doc);
    }

    #[test]
    fn no_migrations_and_no_markers_are_said_or_left_alone() {
        let empty = fill(DOC, &Schema::default(), "ch").unwrap();
        assert!(empty.contains("No migrations yet"), "{empty}");
        let unmarked = schema("CREATE TABLE t (x int);");
        assert!(
            fill(DOC, &unmarked, "ch")
                .unwrap()
                .contains("mark no column")
        );
        assert!(fill("# mine\n", &unmarked, "ch").is_none());
    }

    #[test]
    fn unenforced_rls_is_called_out() {
        let schema =
            schema("CREATE TABLE notes (body text);\nCOMMENT ON COLUMN notes.body IS 'PHI: note';");
        let text = section(&schema, "eu");
        assert!(text.contains("not encrypted at the column level"), "{text}");
        assert!(
            text.contains("**row-level security not enforced**"),
            "{text}"
        );
    }
}
