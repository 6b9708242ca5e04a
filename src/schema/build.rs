//! The schema that a run of statements builds: tables with their columns, PHI comments and
//! row-level security switches, followed through `ALTER`, `RENAME` and `DROP`, and the
//! statements that weaken access control (BYPASSRLS, SUPERUSER, service-role ownership).

use std::collections::BTreeMap;

use super::lex::{
    Tok, Token, lex, name, skip, split_commas, sql_text, starts_with, statements, table_key,
};
use super::{Column, Grant, Location, PhiColumn, Setting, Table};

#[derive(Default)]
pub(super) struct Builder {
    tables: BTreeMap<String, Table>,
    /// Creation order.
    order: Vec<String>,
    pub(super) bypass: Vec<Grant>,
    pub(super) service_ownership: Vec<Grant>,
}

/// Column constraints that end a column's type.
const CONSTRAINT_WORDS: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "REFERENCES",
    "UNIQUE",
    "CHECK",
    "CONSTRAINT",
    "GENERATED",
    "COLLATE",
];

/// Table elements that are not columns.
const TABLE_CONSTRAINTS: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "FOREIGN",
    "EXCLUDE",
    "LIKE",
];

impl Builder {
    pub(super) fn file(&mut self, file: &str, text: &str) {
        self.tokens(file, &lex(text, 1));
    }

    fn tokens(&mut self, file: &str, tokens: &[Token]) {
        for statement in statements(tokens) {
            self.statement(file, statement);
        }
    }

    pub(super) fn finish(&mut self) -> Vec<Table> {
        let mut tables = std::mem::take(&mut self.tables);
        self.order
            .iter()
            .filter_map(|name| tables.remove(name))
            .collect()
    }

    fn at(file: &str, token: &Token) -> Location {
        Location {
            file: file.to_owned(),
            line: token.line,
        }
    }

    fn table(&mut self, key: &str, location: Location) -> &mut Table {
        if !self.tables.contains_key(key) {
            self.order.push(key.to_owned());
        }
        self.tables.entry(key.to_owned()).or_insert_with(|| Table {
            name: key.to_owned(),
            location,
            columns: Vec::new(),
            phi: Vec::new(),
            rls_enabled: None,
            rls_forced: None,
        })
    }

    fn statement(&mut self, file: &str, statement: &[Token]) {
        // Statements inside DO blocks and function bodies count too.
        for token in statement {
            if let Tok::Dollar(body) = &token.tok {
                self.tokens(file, &lex(body, token.line));
            }
        }
        // Inside a PL/pgSQL body, statements follow block keywords.
        let statement = skip(statement, &[&["BEGIN"], &["THEN"], &["ELSE"], &["LOOP"]]);
        let Some(first) = statement.first() else {
            return;
        };
        let location = Self::at(file, first);
        self.weakened_access(file, statement);

        if first.is_kw("CREATE") {
            let rest = skip(
                &statement[1..],
                &[
                    &["OR", "REPLACE"],
                    &["GLOBAL"],
                    &["LOCAL"],
                    &["TEMPORARY"],
                    &["TEMP"],
                    &["UNLOGGED"],
                ],
            );
            if starts_with(rest, &["TABLE"]) {
                self.create_table(location, skip(&rest[1..], &[&["IF", "NOT", "EXISTS"]]));
            }
        } else if starts_with(statement, &["ALTER", "TABLE"]) {
            let rest = skip(&statement[2..], &[&["IF", "EXISTS"], &["ONLY"]]);
            if let Some((parts, actions)) = name(rest) {
                let key = table_key(parts);
                let actions = if actions.first().is_some_and(|t| t.is_punct('*')) {
                    &actions[1..]
                } else {
                    actions
                };
                for action in split_commas(actions) {
                    self.alter_table(file, &key, location.clone(), action);
                }
            }
        } else if starts_with(statement, &["COMMENT", "ON", "COLUMN"]) {
            self.comment_on_column(file, location, &statement[3..]);
        } else if starts_with(statement, &["DROP", "TABLE"]) {
            let rest = skip(&statement[2..], &[&["IF", "EXISTS"]]);
            for target in split_commas(rest) {
                if let Some((parts, _)) = name(target) {
                    let key = table_key(parts);
                    self.tables.remove(&key);
                    self.order.retain(|k| *k != key);
                }
            }
        }
    }

    fn create_table(&mut self, location: Location, rest: &[Token]) {
        let Some((parts, rest)) = name(rest) else {
            return;
        };
        let key = table_key(parts);
        // A table created again (after a DROP) starts afresh.
        self.tables.remove(&key);
        self.order.retain(|k| *k != key);
        let table = self.table(&key, location);
        if !rest.first().is_some_and(|t| t.is_punct('(')) {
            return;
        }
        let mut depth = 0;
        let mut end = rest.len();
        for (i, t) in rest.iter().enumerate() {
            if t.is_punct('(') {
                depth += 1;
            } else if t.is_punct(')') {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
        }
        for element in split_commas(&rest[1..end]) {
            if TABLE_CONSTRAINTS.iter().any(|w| element[0].is_kw(w)) {
                continue;
            }
            if let Some(column) = column_definition(element) {
                table.columns.push(column);
            }
        }
    }

    fn alter_table(&mut self, file: &str, key: &str, location: Location, action: &[Token]) {
        let Some(first) = action.first() else {
            return;
        };
        let here = Self::at(file, first);
        let setting = |on: bool| {
            Some(Setting {
                on,
                location: here.clone(),
            })
        };
        let table = self.table(key, location);
        if starts_with(action, &["ENABLE", "ROW", "LEVEL", "SECURITY"]) {
            table.rls_enabled = setting(true);
        } else if starts_with(action, &["DISABLE", "ROW", "LEVEL", "SECURITY"]) {
            table.rls_enabled = setting(false);
        } else if starts_with(action, &["FORCE", "ROW", "LEVEL", "SECURITY"]) {
            table.rls_forced = setting(true);
        } else if starts_with(action, &["NO", "FORCE", "ROW", "LEVEL", "SECURITY"]) {
            table.rls_forced = setting(false);
        } else if starts_with(action, &["ADD"]) {
            let rest = skip(&action[1..], &[&["COLUMN"], &["IF", "NOT", "EXISTS"]]);
            if rest
                .first()
                .is_some_and(|t| TABLE_CONSTRAINTS.iter().any(|w| t.is_kw(w)))
            {
                return;
            }
            if let Some(column) = column_definition(rest) {
                table.columns.retain(|c| c.name != column.name);
                table.columns.push(column);
            }
        } else if starts_with(action, &["ALTER"]) {
            // ALTER [COLUMN] name [SET DATA] TYPE type [COLLATE ...] [USING ...]
            let rest = skip(&action[1..], &[&["COLUMN"]]);
            let Some(column) = rest.first().and_then(Token::ident) else {
                return;
            };
            let after = skip(&rest[1..], &[&["SET", "DATA"]]);
            if !after.first().is_some_and(|t| t.is_kw("TYPE")) {
                return;
            }
            let type_tokens = &after[1..];
            let end = type_tokens
                .iter()
                .position(|t| t.is_kw("USING") || t.is_kw("COLLATE"))
                .unwrap_or(type_tokens.len());
            let sql_type = sql_text(&type_tokens[..end]);
            for existing in &mut table.columns {
                if existing.name == column {
                    existing.sql_type = sql_type.clone();
                }
            }
        } else if starts_with(action, &["DROP"]) {
            let rest = skip(&action[1..], &[&["COLUMN"], &["IF", "EXISTS"]]);
            if rest.first().is_some_and(|t| t.is_kw("CONSTRAINT")) {
                return;
            }
            if let Some(column) = rest.first().and_then(Token::ident) {
                table.columns.retain(|c| c.name != column);
                table.phi.retain(|p| p.column != column);
            }
        } else if starts_with(action, &["RENAME", "TO"]) {
            if let Some((parts, _)) = name(&action[2..]) {
                let new_key = table_key(parts);
                if let Some(mut table) = self.tables.remove(key) {
                    table.name = new_key.clone();
                    for k in &mut self.order {
                        if k == key {
                            *k = new_key.clone();
                        }
                    }
                    self.tables.insert(new_key, table);
                }
            }
        } else if starts_with(action, &["RENAME"]) {
            let rest = skip(&action[1..], &[&["COLUMN"]]);
            if let (Some(from), Some(to)) = (
                rest.first().and_then(Token::ident),
                rest.get(2).and_then(Token::ident),
            ) && rest.get(1).is_some_and(|t| t.is_kw("TO"))
            {
                for column in &mut table.columns {
                    if column.name == from {
                        column.name = to.clone();
                    }
                }
                for phi in &mut table.phi {
                    if phi.column == from {
                        phi.column = to.clone();
                    }
                }
            }
        }
    }

    fn comment_on_column(&mut self, file: &str, location: Location, rest: &[Token]) {
        let Some((mut parts, rest)) = name(rest) else {
            return;
        };
        if parts.len() < 2 || !rest.first().is_some_and(|t| t.is_kw("IS")) {
            return;
        }
        let column = parts.pop().expect("two parts or more");
        let key = table_key(parts);
        let table = self.table(&key, location.clone());
        table.phi.retain(|p| p.column != column);
        if let Some(Tok::Str(comment)) = rest.get(1).map(|t| &t.tok) {
            let trimmed = comment.trim_start();
            if trimmed.len() >= 4 && trimmed[..4].eq_ignore_ascii_case("PHI:") {
                table.phi.push(PhiColumn {
                    column,
                    description: trimmed[4..].trim().to_owned(),
                    location: Location {
                        file: file.to_owned(),
                        line: location.line,
                    },
                });
            }
        }
    }

    /// BYPASSRLS and SUPERUSER grants, and anything that makes the service role an owner.
    pub(super) fn weakened_access(&mut self, file: &str, statement: &[Token]) {
        let role_statement = (starts_with(statement, &["CREATE"])
            || starts_with(statement, &["ALTER"]))
            && statement
                .get(1)
                .is_some_and(|t| t.is_kw("ROLE") || t.is_kw("USER"));
        for token in statement {
            if token.is_kw("BYPASSRLS") || (role_statement && token.is_kw("SUPERUSER")) {
                self.bypass.push(Grant {
                    location: Self::at(file, token),
                    what: sql_text(statement),
                });
            }
        }

        let mut ownership = |token: &Token| {
            self.service_ownership.push(Grant {
                location: Self::at(file, token),
                what: sql_text(statement),
            });
        };
        for (i, token) in statement.iter().enumerate() {
            let role_after = |n: usize| statement.get(i + n).and_then(Token::ident);
            // ALTER ... OWNER TO x_service; CREATE SCHEMA ... AUTHORIZATION x_service;
            // REASSIGN OWNED BY ... TO x_service
            let owner =
                if token.is_kw("OWNER") && statement.get(i + 1).is_some_and(|t| t.is_kw("TO")) {
                    role_after(2)
                } else if token.is_kw("AUTHORIZATION") {
                    role_after(1)
                } else {
                    None
                };
            if owner.as_deref().is_some_and(is_service_role) {
                ownership(token);
            }
        }
        if starts_with(statement, &["REASSIGN", "OWNED"])
            && let Some(to) = statement.iter().rposition(|t| t.is_kw("TO"))
            && statement
                .get(to + 1)
                .and_then(Token::ident)
                .as_deref()
                .is_some_and(is_service_role)
        {
            ownership(&statement[to]);
        }
        // ALTER DEFAULT PRIVILEGES FOR ROLE x_service: objects x_service creates, i.e. owns.
        if starts_with(statement, &["ALTER", "DEFAULT", "PRIVILEGES", "FOR"]) {
            let roles = skip(&statement[4..], &[&["ROLE"], &["USER"]]);
            let end = roles
                .iter()
                .position(|t| t.is_kw("IN") || t.is_kw("GRANT") || t.is_kw("REVOKE"))
                .unwrap_or(roles.len());
            if let Some(role) = split_commas(&roles[..end]).into_iter().find(|r| {
                r.first()
                    .and_then(Token::ident)
                    .as_deref()
                    .is_some_and(is_service_role)
            }) {
                ownership(&role[0]);
            }
        }
    }
}

/// The service role is named `<something>_service` (SPEC 4.2.2: it owns nothing).
pub fn is_service_role(name: &str) -> bool {
    name.to_lowercase().ends_with("_service")
}

fn column_definition(element: &[Token]) -> Option<Column> {
    let column = element.first()?.ident()?;
    let type_end = element
        .iter()
        .skip(1)
        .position(|t| CONSTRAINT_WORDS.iter().any(|w| t.is_kw(w)))
        .map_or(element.len(), |p| p + 1);
    Some(Column {
        name: column,
        sql_type: sql_text(&element[1..type_end]),
    })
}

#[cfg(test)]
mod tests {
    use super::super::Schema;
    use super::*;

    fn schema(migrations: &[(&str, &str)]) -> Schema {
        Schema::from_sources(
            migrations
                .iter()
                .map(|(f, t)| (format!("migrations/{f}"), (*t).to_owned()))
                .collect(),
        )
    }

    const PATIENTS: &str = "
-- patients of a clinic
CREATE TABLE patients (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name_ciphertext bytea NOT NULL,
    born date,
    CONSTRAINT one UNIQUE (tenant_id, id)
);
COMMENT ON COLUMN patients.name_ciphertext IS 'PHI: full name';
";

    #[test]
    fn tenant_and_phi_columns_mark_tables_and_rls_must_be_enabled_and_forced() {
        let s = schema(&[
            (
                "0001_tenants.sql",
                "create table tenants (id uuid primary key, name text);",
            ),
            ("0002_patients.sql", PATIENTS),
        ]);
        let names: Vec<_> = s
            .tables
            .iter()
            .map(|t| (t.name.as_str(), t.holds_phi()))
            .collect();
        assert_eq!(names, [("tenants", false), ("patients", true)]);
        let patients = &s.tables[1];
        assert_eq!(patients.location.line, 3);
        assert_eq!(patients.phi[0].column, "name_ciphertext");
        assert_eq!(patients.phi[0].description, "full name");
        assert_eq!(patients.phi[0].location.line, 10);
        assert_eq!(
            patients.column("name_ciphertext").unwrap().sql_type,
            "bytea"
        );
        assert!(!patients.rls_enforced());

        let s = schema(&[
            ("0002_patients.sql", PATIENTS),
            (
                "0003_rls.sql",
                "alter table public.patients enable row level security;\n\
                 ALTER TABLE ONLY \"patients\"\n  FORCE   ROW LEVEL SECURITY;",
            ),
        ]);
        assert!(s.tables[0].rls_enforced());
        assert_eq!(s.tables[0].rls_forced.as_ref().unwrap().location.line, 3);
    }

    #[test]
    fn a_later_disable_or_no_force_wins_and_order_is_by_version() {
        let s = schema(&[
            (
                "20240102_off.sql",
                "ALTER TABLE patients NO FORCE ROW LEVEL SECURITY;",
            ),
            (
                "20240101_on.sql",
                "ALTER TABLE patients ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
            ),
            ("20231231_patients.sql", PATIENTS),
            ("20240103_x.down.sql", "DROP TABLE patients;"),
        ]);
        let t = &s.tables[0];
        assert!(t.rls_enabled.as_ref().unwrap().on);
        assert!(!t.rls_forced.as_ref().unwrap().on);
        assert_eq!(
            t.rls_forced.as_ref().unwrap().location.file,
            "migrations/20240102_off.sql"
        );
    }

    #[test]
    fn comments_strings_and_bodies_neither_fake_nor_hide_statements() {
        let s = schema(&[(
            "0001.sql",
            "CREATE TABLE notes (tenant_id uuid, body bytea);
             -- ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
             /* ALTER TABLE notes FORCE ROW LEVEL SECURITY; */
             SELECT 'ALTER TABLE notes ENABLE ROW LEVEL SECURITY;';
             COMMENT ON COLUMN notes.body IS E'PHI: clinician\\'s note; free text';
             DO $do$ BEGIN CREATE ROLE sneaky BYPASSRLS; END $do$;
             CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;",
        )]);
        let notes = &s.tables[0];
        assert!(notes.rls_enabled.is_none() && notes.rls_forced.is_none());
        assert_eq!(notes.phi[0].description, "clinician's note; free text");
        assert_eq!(s.bypass.len(), 1);
        assert_eq!(s.bypass[0].location.line, 6);
        assert!(
            s.bypass[0].what.contains("bypassrls"),
            "{}",
            s.bypass[0].what
        );
    }

    #[test]
    fn bypassrls_superuser_and_service_ownership_are_found() {
        let s = schema(&[(
            "0001.sql",
            "CREATE ROLE clinic_owner NOLOGIN NOBYPASSRLS;
             CREATE ROLE clinic_service LOGIN NOSUPERUSER NOBYPASSRLS;
             ALTER ROLE admin SUPERUSER;
             ALTER ROLE clinic_service WITH BYPASSRLS;
             ALTER TABLE patients OWNER TO clinic_owner;
             ALTER TABLE patients OWNER TO clinic_service;
             CREATE SCHEMA app AUTHORIZATION clinic_service;
             ALTER DEFAULT PRIVILEGES FOR ROLE clinic_owner IN SCHEMA app GRANT SELECT ON TABLES TO clinic_service;
             ALTER DEFAULT PRIVILEGES FOR ROLE clinic_service GRANT SELECT ON TABLES TO x;
             REASSIGN OWNED BY clinic_owner TO clinic_service;",
        )]);
        let lines = |grants: &[Grant]| grants.iter().map(|g| g.location.line).collect::<Vec<_>>();
        assert_eq!(lines(&s.bypass), [3, 4]);
        assert_eq!(lines(&s.service_ownership), [6, 7, 9, 10]);
    }

    #[test]
    fn dropped_tables_and_columns_are_gone() {
        let s = schema(&[(
            "0001.sql",
            "CREATE TABLE a (tenant_id uuid); CREATE TABLE b (x int, tenant_id uuid);
             DROP TABLE IF EXISTS a CASCADE;
             ALTER TABLE b DROP COLUMN tenant_id;
             ALTER TABLE b ADD COLUMN IF NOT EXISTS y text;
             ALTER TABLE b RENAME TO c;",
        )]);
        assert_eq!(s.tables.len(), 1);
        assert_eq!(s.tables[0].name, "c");
        assert!(!s.tables[0].holds_phi());
        assert_eq!(s.tables[0].columns.len(), 2);
    }

    #[test]
    fn a_later_change_of_column_type_is_followed() {
        let schema = schema(&[
            ("0001_init.sql", "CREATE TABLE notes (id uuid, body bytea);"),
            (
                "0002_plain.sql",
                "ALTER TABLE notes ALTER COLUMN body SET DATA TYPE text USING body::text;",
            ),
        ]);
        let notes = schema.tables.iter().find(|t| t.name == "notes").unwrap();
        assert_eq!(notes.column("body").unwrap().sql_type, "text");
    }
}
