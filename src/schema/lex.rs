//! The tokens of a migration: words, quoted identifiers, strings, numbers, punctuation and
//! dollar-quoted bodies, each with its line. Comments are dropped here, so they can neither
//! fake nor hide a statement. Also the helpers that read names and keyword runs off a
//! token slice.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
}

impl Token {
    pub(super) fn is_kw(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    pub(super) fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }

    /// The token as a name part: unquoted words fold to lowercase, as PostgreSQL does.
    pub(super) fn ident(&self) -> Option<String> {
        match &self.tok {
            Tok::Word(w) => Some(w.to_lowercase()),
            Tok::Quoted(q) => Some(q.clone()),
            _ => None,
        }
    }
}

pub(super) fn lex(text: &str, first_line: usize) -> Vec<Token> {
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
pub(super) fn quoted(
    chars: &[char],
    start: usize,
    quote: char,
    backslash: bool,
) -> (String, usize) {
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
pub(super) fn statements(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.is_punct(';'))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Splits at commas outside parentheses.
pub(super) fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
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
pub(super) fn starts_with(tokens: &[Token], words: &[&str]) -> bool {
    tokens.len() >= words.len() && tokens.iter().zip(words).all(|(t, w)| t.is_kw(w))
}

/// Skips optional keyword runs (`IF NOT EXISTS`, `ONLY`, ...) at the front.
pub(super) fn skip<'a>(mut tokens: &'a [Token], optional: &[&[&str]]) -> &'a [Token] {
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
pub(super) fn name(tokens: &[Token]) -> Option<(Vec<String>, &[Token])> {
    let mut parts = vec![tokens.first()?.ident()?];
    let mut rest = &tokens[1..];
    while rest.len() >= 2 && rest[0].is_punct('.') {
        parts.push(rest[1].ident()?);
        rest = &rest[2..];
    }
    Some((parts, rest))
}

/// A table's key: schema `public` is the default and is left out.
pub(super) fn table_key(mut parts: Vec<String>) -> String {
    if parts.len() == 2 && parts[0] == "public" {
        parts.remove(0);
    }
    parts.join(".")
}

/// Tokens as SQL text: words lowercased, no space before punctuation.
pub(super) fn sql_text(tokens: &[Token]) -> String {
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
