//! The database schema as a project's `migrations/*.sql` build it, read statically: which
//! tables hold PHI, whether row-level security is enabled and forced on them, and which
//! statements hand out BYPASSRLS or ownership to the service role.
//!
//! `medforge check` holds this against SPEC 4.2.2, and the compliance docs list the PHI
//! columns from it. It is a reader for the statements migrations use, not a SQL parser:
//! comments, strings, quoted identifiers and dollar-quoted bodies are handled so that
//! they cannot fake or hide a statement, and everything else is keywords and names.
//!
//! A table holds PHI when a column is marked `COMMENT ON COLUMN t.c IS 'PHI: ...'` or it
//! has a `tenant_id` (or `clinic_id`) column: clinic data.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::read_optional;

/// The folder sqlx reads migrations from.
pub const MIGRATIONS_DIR: &str = "migrations";

/// Columns that mark a table as holding a clinic's data: SPEC 4.2.2 says `tenant_id`,
/// and the generated schema calls the tenant a clinic.
pub const TENANT_COLUMNS: &[&str] = &["tenant_id", "clinic_id"];

/// Where the generated project keeps its role scripts (`db/bootstrap.sql`); they are read
/// for BYPASSRLS and ownership only.
pub const ROLE_SCRIPTS_DIR: &str = "db";

/// A place in a migration: the file relative to the project root, and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The declared type as written, lowercased, e.g. `bytea` or `varchar(64)`.
    pub sql_type: String,
}

/// A column marked `PHI: ...`.
#[derive(Debug, Clone)]
pub struct PhiColumn {
    pub column: String,
    /// The comment after `PHI:`.
    pub description: String,
    pub location: Location,
}

/// A switch set by `ALTER TABLE`: its last value and where it was set.
#[derive(Debug, Clone)]
pub struct Setting {
    pub on: bool,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The name, lowercased unless quoted, without a `public.` schema.
    pub name: String,
    /// Where the table was created, or first mentioned if not created in the migrations.
    pub location: Location,
    pub columns: Vec<Column>,
    pub phi: Vec<PhiColumn>,
    pub rls_enabled: Option<Setting>,
    pub rls_forced: Option<Setting>,
}

impl Table {
    /// Whether the table holds PHI, by the rule in the module docs.
    pub fn holds_phi(&self) -> bool {
        !self.phi.is_empty() || self.tenant_column().is_some()
    }

    /// The column that scopes rows to one clinic, if any.
    pub fn tenant_column(&self) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| TENANT_COLUMNS.contains(&c.name.as_str()))
    }

    pub fn rls_enforced(&self) -> bool {
        let on = |s: &Option<Setting>| s.as_ref().is_some_and(|s| s.on);
        on(&self.rls_enabled) && on(&self.rls_forced)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A statement that weakens the database's access control.
#[derive(Debug, Clone)]
pub struct Grant {
    pub location: Location,
    /// What the statement does, e.g. `CREATE ROLE app BYPASSRLS`.
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The migration files read, in the order they apply.
    pub files: Vec<String>,
    /// Tables that exist after the last migration, in the order they appeared.
    pub tables: Vec<Table>,
    /// Roles given BYPASSRLS or SUPERUSER: either one ignores row-level security.
    pub bypass: Vec<Grant>,
    /// Statements that make a `*_service` role own something (or create objects).
    pub service_ownership: Vec<Grant>,
}

impl Schema {
    /// Reads `migrations/*.sql` of the project at `project` (down migrations skipped). A
    /// project without the folder has an empty schema.
    pub fn read(project: &Path) -> Result<Schema> {
        let mut schema = Schema::from_sources(sql_files(project, MIGRATIONS_DIR)?);
        let mut roles = Builder::default();
        for (file, text) in sql_files(project, ROLE_SCRIPTS_DIR)? {
            for statement in statements(&lex(&text, 1)) {
                roles.weakened_access(&file, statement);
            }
        }
        schema.bypass.extend(roles.bypass);
        schema.service_ownership.extend(roles.service_ownership);
        Ok(schema)
    }

    /// Builds the schema from `(path, text)` migrations, sorting them as sqlx applies them
    /// (down migrations are left out).
    pub fn from_sources(mut sources: Vec<(String, String)>) -> Schema {
        sources.retain(|(path, _)| is_up_migration(path));
        sources.sort_by_key(|(a, _)| migration_order(a));
        let mut builder = Builder::default();
        for (file, text) in &sources {
            builder.file(file, text);
        }
        Schema {
            files: sources.into_iter().map(|(file, _)| file).collect(),
            tables: builder.finish(),
            bypass: builder.bypass,
            service_ownership: builder.service_ownership,
        }
    }

    pub fn phi_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| t.holds_phi())
    }
}

/// The `*.sql` files of `project/dir`, as paths relative to `project`; none if the folder
/// is absent.
pub fn sql_paths(project: &Path, dir: &str) -> Result<Vec<String>> {
    let path = project.join(dir);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot read", &path)(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("cannot read", &path))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sql") && entry.path().is_file() {
            paths.push(format!("{dir}/{name}"));
        }
    }
    paths.sort();
    Ok(paths)
}

/// The `*.sql` files of `project/dir` as `(relative path, text)`.
fn sql_files(project: &Path, dir: &str) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for path in sql_paths(project, dir)? {
        if let Some(text) = read_optional(&project.join(&path))? {
            files.push((path, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    Ok(files)
}

/// Whether a file name in `migrations/` is a migration sqlx applies going up.
pub fn is_up_migration(name: &str) -> bool {
    name.ends_with(".sql") && !name.ends_with(".down.sql")
}

/// sqlx applies migrations by their numeric version prefix.
fn migration_order(path: &str) -> (u128, String) {
    let name = path.rsplit('/').next().unwrap_or(path);
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u128::MAX), name.to_owned())
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted word: keyword or name, as written.
    Word(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    /// A string constant.
    Str(String),
    /// A `$tag$ ... $tag$` body (function and DO bodies).
    Dollar(String),
    Number(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn is_kw(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }

    /// The token as a name part: unquoted words fold to lowercase, as PostgreSQL does.
    fn ident(&self) -> Option<String> {
        match &self.tok {
            Tok::Word(w) => Some(w.to_lowercase()),
            Tok::Quoted(q) => Some(q.clone()),
            _ => None,
        }
    }
}

fn lex(text: &str, first_line: usize) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = first_line;
    let mut i = 0;
    // Consumes chars[from..to], counting lines.
    let advance = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())]
            .iter()
            .filter(|&&c| c == '\n')
            .count();
    };
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            advance(i, i + 1, &mut line);
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let start = i;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            advance(start, i, &mut line);
        } else if c == '\'' {
            let (value, end) = quoted(&chars, i, '\'', false);
            advance(i, end, &mut line);
            tokens.push(Token {
                tok: Tok::Str(value),
                line: start_line,
            });
            i = end;
        } else if (c == 'E' || c == 'e') && next == Some('\'') {
            let (value, end) = quoted(&chars, i + 1, '\'', true);
            advance(i, end, &mut line);
            tokens.push(Token {
                tok: Tok::Str(value),
                line: start_line,
            });
            i = end;
        } else if c == '"' {
            let (value, end) = quoted(&chars, i, '"', false);
            advance(i, end, &mut line);
            tokens.push(Token {
                tok: Tok::Quoted(value),
                line: start_line,
            });
            i = end;
        } else if c == '$' && !next.is_some_and(|n| n.is_ascii_digit()) {
            // `$tag$` opens a body that ends at the same tag.
            let tag_end = chars[i + 1..]
                .iter()
                .position(|&ch| !(ch.is_alphanumeric() || ch == '_'))
                .map(|p| i + 1 + p);
            match tag_end {
                Some(end) if chars[end] == '$' => {
                    let tag: String = chars[i..=end].iter().collect();
                    let body_start = end + 1;
                    let rest: String = chars[body_start..].iter().collect();
                    let (body, consumed) = match rest.find(&tag) {
                        Some(at) => (
                            rest[..at].to_owned(),
                            rest[..at].chars().count() + tag.chars().count(),
                        ),
                        None => (rest.clone(), rest.chars().count()),
                    };
                    // The body keeps its first line number, so statements in it locate.
                    tokens.push(Token {
                        tok: Tok::Dollar(body),
                        line: start_line,
                    });
                    let stop = body_start + consumed;
                    advance(i, stop, &mut line);
                    i = stop;
                }
                _ => {
                    tokens.push(Token {
                        tok: Tok::Punct('$'),
                        line,
                    });
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Word(chars[start..i].iter().collect()),
                line,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Number(chars[start..i].iter().collect()),
                line,
            });
        } else {
            tokens.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// A quoted run starting at `chars[start]` (the quote); a doubled quote is one quote, and
/// with `backslash` a backslash escapes the next character. Returns the value and the
/// index after the closing quote.
fn quoted(chars: &[char], start: usize, quote: char, backslash: bool) -> (String, usize) {
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if backslash && c == '\\' && i + 1 < chars.len() {
            value.push(chars[i + 1]);
            i += 2;
        } else if c == quote {
            if chars.get(i + 1) == Some(&quote) {
                value.push(quote);
                i += 2;
            } else {
                return (value, i + 1);
            }
        } else {
            value.push(c);
            i += 1;
        }
    }
    (value, i)
}

/// Splits at top-level `;`.
fn statements(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.is_punct(';'))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Splits at commas outside parentheses.
fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::Punct('(') | Tok::Punct('[') => depth += 1,
            Tok::Punct(')') | Tok::Punct(']') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// Whether `tokens` start with the keywords `words`.
fn starts_with(tokens: &[Token], words: &[&str]) -> bool {
    tokens.len() >= words.len() && tokens.iter().zip(words).all(|(t, w)| t.is_kw(w))
}

/// Skips optional keyword runs (`IF NOT EXISTS`, `ONLY`, ...) at the front.
fn skip<'a>(mut tokens: &'a [Token], optional: &[&[&str]]) -> &'a [Token] {
    loop {
        let before = tokens.len();
        for words in optional {
            if starts_with(tokens, words) {
                tokens = &tokens[words.len()..];
            }
        }
        if tokens.len() == before {
            return tokens;
        }
    }
}

/// A dotted name at the front: its parts and the rest.
fn name(tokens: &[Token]) -> Option<(Vec<String>, &[Token])> {
    let mut parts = vec![tokens.first()?.ident()?];
    let mut rest = &tokens[1..];
    while rest.len() >= 2 && rest[0].is_punct('.') {
        parts.push(rest[1].ident()?);
        rest = &rest[2..];
    }
    Some((parts, rest))
}

/// A table's key: schema `public` is the default and is left out.
fn table_key(mut parts: Vec<String>) -> String {
    if parts.len() == 2 && parts[0] == "public" {
        parts.remove(0);
    }
    parts.join(".")
}

/// Tokens as SQL text: words lowercased, no space before punctuation.
fn sql_text(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut previous_word = false;
    for t in tokens {
        let (text, word) = match &t.tok {
            Tok::Word(w) => (w.to_lowercase(), true),
            Tok::Quoted(q) => (format!("\"{q}\""), true),
            Tok::Number(n) => (n.clone(), true),
            Tok::Str(s) => (format!("'{s}'"), true),
            Tok::Dollar(_) => ("$$...$$".to_owned(), true),
            Tok::Punct(c) => (c.to_string(), false),
        };
        if previous_word && word {
            out.push(' ');
        }
        out.push_str(&text);
        previous_word = word;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Statements

#[derive(Default)]
struct Builder {
    tables: BTreeMap<String, Table>,
    /// Creation order.
    order: Vec<String>,
    bypass: Vec<Grant>,
    service_ownership: Vec<Grant>,
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
    fn file(&mut self, file: &str, text: &str) {
        self.tokens(file, &lex(text, 1));
    }

    fn tokens(&mut self, file: &str, tokens: &[Token]) {
        for statement in statements(tokens) {
            self.statement(file, statement);
        }
    }

    fn finish(&mut self) -> Vec<Table> {
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
    fn weakened_access(&mut self, file: &str, statement: &[Token]) {
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
