//! Reading the project's Rust sources with syn: raw extractors, banned macros and lint
//! bypasses in `src/` (outside test code), and the policy constants of `src/config.rs`.
//!
//! What is banned comes from the guardrails' clippy bans (`guardrails/clippy-bans.toml`),
//! the same list clippy enforces in the project: `check` finds the uses even where clippy
//! is not run, or was told to look away.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::{Finding, leaks, rule};

/// The clippy bans, as paths.
#[derive(Debug, Clone, Default)]
pub struct Bans {
    /// Full paths, e.g. `axum::extract::Path`.
    pub types: Vec<String>,
    /// Full paths, e.g. `std::println`.
    pub macros: Vec<String>,
}

impl Bans {
    /// Reads `disallowed-types` and `disallowed-macros` from a clippy configuration.
    pub fn from_clippy_toml(text: &str) -> Bans {
        let table: toml::Table = text.parse().unwrap_or_default();
        let paths = |key: &str| -> Vec<String> {
            table
                .get(key)
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|entry| match entry {
                    toml::Value::String(path) => Some(path.clone()),
                    other => other.get("path")?.as_str().map(str::to_owned),
                })
                .collect()
        };
        Bans {
            types: paths("disallowed-types"),
            macros: paths("disallowed-macros"),
        }
    }

    /// Every banned path, types and macros.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.types.iter().chain(&self.macros)
    }

    fn bans_macro(&self, name: &str) -> bool {
        self.macros
            .iter()
            .any(|path| path.rsplit("::").next() == Some(name))
    }
}

/// Crates (and modules) that send requests out. PHI may leave the service only through
/// its egress client (SPEC 4.2.9), so they may be named in `src/egress/` only.
const HTTP_CLIENTS: &[&[&str]] = &[
    &["reqwest"],
    &["ureq"],
    &["isahc"],
    &["surf"],
    &["attohttpc"],
    &["awc"],
    &["hyper", "client"],
    &["hyper_util", "client"],
];

/// Where the egress client lives: the one place an HTTP client may be used.
pub const EGRESS_DIR: &str = "src/egress/";

/// The HTTP client a path names, if any (`reqwest::Client` names `reqwest`).
fn http_client(segments: &[String]) -> Option<String> {
    HTTP_CLIENTS
        .iter()
        .find(|client| {
            client.len() <= segments.len() && client.iter().zip(segments).all(|(c, s)| c == s)
        })
        .map(|client| client.join("::"))
}

/// Lints whose `allow` or `expect` switches the bans off.
const BYPASSED_LINTS: &[&str] = &[
    "disallowed_types",
    "disallowed_macros",
    "disallowed_methods",
    "print_stdout",
    "print_stderr",
    "dbg_macro",
];

/// Scans one file of `src/`; `path` is relative to the project. A file that does not
/// parse yields one finding saying so.
pub fn scan(path: &str, text: &str, bans: &Bans) -> Vec<Finding> {
    let file = match syn::parse_file(text) {
        Ok(file) => file,
        Err(e) => {
            return vec![Finding::at(
                rule::SOURCES_PARSE,
                path,
                e.span().start().line,
                format!(
                    "does not parse as Rust ({e}), so medforge check cannot verify it; fix the \
                     syntax error"
                ),
            )];
        }
    };
    let aliases = Aliases::of(&file);
    let mut scan = Scan {
        path,
        bans,
        aliases: &aliases,
        egress: path.starts_with(EGRESS_DIR),
        findings: Vec::new(),
    };
    scan.visit_file(&file);
    scan.findings.extend(leaks::scan(path, &file, &aliases));
    scan.findings
}

/// What the `use ... as` renames, `use` imports and `extern crate ... as` of one file make a
/// leading path segment stand for, so that `use axum::extract as ex;` cannot hide
/// `ex::Path`. Scopes are not tracked (an alias anywhere in the file applies everywhere in
/// it), which can only make a banned path found where rustc would not resolve it; an alias
/// declared in another file is not seen (clippy's `disallowed-types`, which resolves
/// names, still is).
#[derive(Debug, Default)]
pub struct Aliases(HashMap<String, Vec<String>>);

impl Aliases {
    pub fn of(file: &syn::File) -> Aliases {
        struct Collect(Aliases);
        impl<'ast> Visit<'ast> for Collect {
            fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
                use_leaves(&mut Vec::new(), &node.tree, &mut |prefix, leaf| {
                    self.0.add_use(prefix, leaf);
                });
            }
            fn visit_item_extern_crate(&mut self, node: &'ast syn::ItemExternCrate) {
                if let Some((_, rename)) = &node.rename {
                    self.0.add(rename.to_string(), vec![node.ident.to_string()]);
                }
            }
        }
        let mut collect = Collect(Aliases::default());
        collect.visit_file(file);
        collect.0
    }

    fn add(&mut self, name: String, target: Vec<String>) {
        // `use axum;` and `use x as _;` name nothing new.
        if name != "_" && target != [name.as_str()] {
            self.0.insert(name, target);
        }
    }

    /// One name a `use` brings in, `prefix` being the path before it.
    fn add_use(&mut self, prefix: &[String], leaf: &syn::UseTree) {
        let (ident, name) = match leaf {
            syn::UseTree::Name(name) => (&name.ident, &name.ident),
            syn::UseTree::Rename(rename) => (&rename.ident, &rename.rename),
            _ => return,
        };
        if ident == "self" {
            // `use axum::extract::{self}` names `extract`, `{self as ex}` names `ex`.
            let name = match leaf {
                syn::UseTree::Rename(_) => Some(name.to_string()),
                _ => prefix.last().cloned(),
            };
            if let Some(name) = name {
                self.add(name, prefix.to_vec());
            }
        } else {
            self.add(name.to_string(), joined(prefix, &ident.to_string()));
        }
    }

    /// The segments of `path`, its leading alias resolved.
    pub fn resolve_path(&self, path: &syn::Path) -> Vec<String> {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve(&written)
    }

    /// `segments` with its leading alias replaced by what it stands for, through chains of
    /// aliases (`use axum as ax; use ax::extract as ex;`). A leading `self`, `crate` or
    /// `super` before an alias of this file is dropped.
    pub fn resolve(&self, segments: &[String]) -> Vec<String> {
        let mut path = segments.to_vec();
        if path.len() > 1
            && matches!(path[0].as_str(), "self" | "crate" | "super")
            && self.0.contains_key(&path[1])
        {
            path.remove(0);
        }
        // Bounded, so that aliases naming each other cannot loop.
        for _ in 0..8 {
            match path.first().and_then(|first| self.0.get(first)) {
                Some(target) => path = [target.as_slice(), &path[1..]].concat(),
                None => break,
            }
        }
        path
    }
}

struct Scan<'a> {
    path: &'a str,
    bans: &'a Bans,
    aliases: &'a Aliases,
    /// Whether this file is part of the egress client.
    egress: bool,
    findings: Vec<Finding>,
}

impl Scan<'_> {
    fn report(&mut self, rule: &'static str, span: Span, message: String) {
        self.findings
            .push(Finding::at(rule, self.path, span.start().line, message));
    }

    fn banned_type(&mut self, full: &str, span: Span) {
        let hit = self.bans.types.iter().find(|banned| {
            *banned == full || (full.contains("::") && banned.ends_with(&format!("::{full}")))
        });
        if let Some(banned) = hit {
            let safe = if banned.contains("Path") {
                "phi_guard::SafePath"
            } else {
                "phi_guard::SafeQuery or a JSON body"
            };
            let message = format!(
                "uses `{banned}`, a raw extractor that accepts PHI from the URL; use {safe}, \
                 which only accepts UrlSafe types"
            );
            self.report(rule::NO_RAW_EXTRACTORS, span, message);
        }
    }

    /// An HTTP client named outside the egress client.
    fn outbound(&mut self, segments: &[String], span: Span) {
        if self.egress {
            return;
        }
        if let Some(client) = http_client(segments) {
            let message = format!(
                "uses `{client}`, an HTTP client outside {EGRESS_DIR}: PHI may leave only \
                 through the egress client (state.egress), which sends to the vendors of \
                 compliance/vendors.toml and audits every attempt"
            );
            self.report(rule::EGRESS_ONLY, span, message);
        }
    }

    fn banned_macro(&mut self, name: &str, span: Span) {
        if self.bans.bans_macro(name) {
            self.report(
                rule::NO_BANNED_MACROS,
                span,
                format!(
                    "`{name}!` writes outside the structured, PHI-free logs; log opaque ids with \
                     tracing instead"
                ),
            );
        }
    }

    /// `name!(...)` invocations inside a macro's tokens (`vec![dbg!(x)]`), which syn does
    /// not parse.
    fn nested_macros(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Ident(ident) => {
                    let bang =
                        matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                    let group = matches!(trees.get(i + 2), Some(TokenTree::Group(_)));
                    if bang && group {
                        let name = self.aliases.resolve(&[ident.to_string()]);
                        if std_path(&name) {
                            let last = name.last().map_or(String::new(), String::clone);
                            self.banned_macro(&last, ident.span());
                        }
                    }
                }
                TokenTree::Group(group) => self.nested_macros(group.stream()),
                _ => {}
            }
        }
    }

    /// One name (or glob) a `use` brings in, `prefix` being the path before it.
    fn use_leaf(&mut self, prefix: &[String], leaf: &syn::UseTree) {
        match leaf {
            syn::UseTree::Name(syn::UseName { ident })
            | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                let full = if ident == "self" {
                    self.aliases.resolve(prefix)
                } else {
                    self.aliases.resolve(&joined(prefix, &ident.to_string()))
                };
                self.banned_type(&full.join("::"), ident.span());
                // `use std::println as say;` brings a banned macro in under another name.
                if std_path(&full)
                    && let Some(last) = full.last()
                {
                    self.banned_macro(last, ident.span());
                }
            }
            syn::UseTree::Glob(glob) => {
                let module = self.aliases.resolve(prefix).join("::");
                let brought: Vec<String> = self
                    .bans
                    .types
                    .iter()
                    .filter(|banned| {
                        banned
                            .rsplit_once("::")
                            .is_some_and(|(parent, _)| parent == module)
                    })
                    .cloned()
                    .collect();
                if let Some(banned) = brought.first() {
                    let message = format!(
                        "`use {module}::*` brings in `{banned}`, a raw extractor that accepts \
                         PHI from the URL; import what you need by name, and use \
                         phi_guard::SafePath / SafeQuery"
                    );
                    self.report(rule::NO_RAW_EXTRACTORS, glob.star_token.span, message);
                }
            }
            syn::UseTree::Path(_) | syn::UseTree::Group(_) => {}
        }
    }
}

/// Calls `leaf` with each name, rename and glob of a `use` tree and the path before it.
fn use_leaves<'t>(
    prefix: &mut Vec<String>,
    tree: &'t syn::UseTree,
    leaf: &mut impl FnMut(&[String], &'t syn::UseTree),
) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            use_leaves(prefix, &path.tree, leaf);
            prefix.pop();
        }
        syn::UseTree::Group(group) => {
            for item in &group.items {
                use_leaves(prefix, item, leaf);
            }
        }
        syn::UseTree::Name(_) | syn::UseTree::Rename(_) | syn::UseTree::Glob(_) => {
            leaf(prefix, tree);
        }
    }
}

fn joined(prefix: &[String], last: &str) -> Vec<String> {
    let mut parts = prefix.to_vec();
    parts.push(last.to_owned());
    parts
}

/// Whether a macro path may name a standard macro: unqualified, or under `std`, `core` or
/// `alloc`.
fn std_path(segments: &[String]) -> bool {
    segments.len() == 1
        || matches!(
            segments.first().map(String::as_str),
            Some("std" | "core" | "alloc")
        )
}

/// Whether the attributes make an item test-only: `#[cfg(test)]` (alone or in `all(...)`),
/// `#[test]`, `#[tokio::test]`.
pub fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.is_ident("cfg") {
            let predicate = match &attr.meta {
                syn::Meta::List(list) => list.tokens.to_string().replace(' ', ""),
                _ => return false,
            };
            predicate == "test"
                || (predicate.starts_with("all(")
                    && predicate.contains("test")
                    && !predicate.contains("not(test"))
        } else {
            path.segments.last().is_some_and(|s| s.ident == "test")
        }
    })
}

macro_rules! skip_tests {
    ($($method:ident: $ty:ty => $walk:path;)*) => {
        $(
            fn $method(&mut self, node: &'ast $ty) {
                if !is_test(&node.attrs) {
                    $walk(self, node);
                }
            }
        )*
    };
}

impl<'ast> Visit<'ast> for Scan<'_> {
    skip_tests! {
        visit_item_mod: syn::ItemMod => visit::visit_item_mod;
        visit_item_fn: syn::ItemFn => visit::visit_item_fn;
        visit_item_impl: syn::ItemImpl => visit::visit_item_impl;
        visit_item_const: syn::ItemConst => visit::visit_item_const;
        visit_item_static: syn::ItemStatic => visit::visit_item_static;
        visit_item_struct: syn::ItemStruct => visit::visit_item_struct;
        visit_item_enum: syn::ItemEnum => visit::visit_item_enum;
        visit_item_trait: syn::ItemTrait => visit::visit_item_trait;
        visit_item_type: syn::ItemType => visit::visit_item_type;
        visit_item_macro: syn::ItemMacro => visit::visit_item_macro;
        visit_impl_item_fn: syn::ImplItemFn => visit::visit_impl_item_fn;
        visit_trait_item_fn: syn::TraitItemFn => visit::visit_trait_item_fn;
    }

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        if is_test(&node.attrs) {
            return;
        }
        visit::visit_item_use(self, node);
        use_leaves(&mut Vec::new(), &node.tree, &mut |prefix, leaf| {
            self.use_leaf(prefix, leaf);
        });
        // One finding per `use` of an HTTP client, however many names it brings in.
        let mut segments = Vec::new();
        let mut tree = &node.tree;
        while let syn::UseTree::Path(path) = tree {
            segments.push(path.ident.to_string());
            tree = &path.tree;
        }
        if let syn::UseTree::Name(name) = tree {
            segments.push(name.ident.to_string());
        }
        let segments = self.aliases.resolve(&segments);
        let span = match &node.tree {
            syn::UseTree::Path(path) => path.ident.span(),
            syn::UseTree::Name(name) => name.ident.span(),
            _ => return,
        };
        self.outbound(&segments, span);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() >= 2 {
            let full = self.aliases.resolve_path(path);
            let span = path
                .segments
                .last()
                .map_or_else(Span::call_site, |s| s.ident.span());
            self.banned_type(&full.join("::"), span);
            let first = path.segments.first().map_or(span, |s| s.ident.span());
            self.outbound(&full, first);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let segments = self.aliases.resolve_path(&mac.path);
        if std_path(&segments)
            && let (Some(name), Some(last)) = (segments.last(), mac.path.segments.last())
        {
            self.banned_macro(name, last.ident.span());
        }
        self.nested_macros(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path = attr.path();
        let lint_attr = ["allow", "expect", "cfg_attr"]
            .iter()
            .any(|name| path.is_ident(name));
        if let (true, syn::Meta::List(list)) = (lint_attr, &attr.meta) {
            let tokens = list.tokens.to_string().replace(' ', "");
            if let Some(lint) = BYPASSED_LINTS.iter().find(|lint| tokens.contains(*lint)) {
                let span = path
                    .segments
                    .last()
                    .map_or_else(Span::call_site, |s| s.ident.span());
                self.report(
                    rule::NO_LINT_BYPASS,
                    span,
                    format!(
                        "allows `clippy::{lint}`, which switches off a PHI guardrail ban; remove \
                         the attribute and use the phi_guard types instead (only the vendored \
                         guardrails may wrap the raw extractors)"
                    ),
                );
            }
        }
        visit::visit_attribute(self, attr);
    }
}

/// A `const NAME: T = value;` of `src/config.rs`: its value as written and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constant {
    pub value: ConstValue,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstValue {
    Int(u64),
    /// A path such as `TlsTermination::Rustls`: its last segment.
    Variant(String),
    /// Anything else, as text.
    Other(String),
}

/// Finds the top-level constant `name` in `text`; `None` when absent or unparsable.
pub fn constant(text: &str, name: &str) -> Option<Constant> {
    let file = syn::parse_file(text).ok()?;
    file.items.iter().find_map(|item| match item {
        syn::Item::Const(c) if c.ident == name => Some(Constant {
            line: c.ident.span().start().line,
            value: match &*c.expr {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                }) => int
                    .base10_parse()
                    .map_or_else(|_| ConstValue::Other(int.to_string()), ConstValue::Int),
                syn::Expr::Path(path) => ConstValue::Variant(
                    path.path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                ),
                other => ConstValue::Other(quote_expr(other)),
            },
        }),
        _ => None,
    })
}

fn quote_expr(expr: &syn::Expr) -> String {
    use quote::ToTokens;
    expr.to_token_stream().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bans() -> Bans {
        Bans::from_clippy_toml(crate::template::guardrail_clippy_bans())
    }

    fn found(source: &str) -> Vec<(&'static str, usize)> {
        scan("src/x.rs", source, &bans())
            .into_iter()
            .map(|f| (f.rule, f.line.unwrap_or(0)))
            .collect()
    }

    #[test]
    fn http_clients_are_found_outside_the_egress_client_only() {
        let source = "use reqwest::Client;\n\
                      use hyper_util::client::legacy::Client as Legacy;\n\
                      use hyper::body::Bytes;\n\
                      fn f() { let _ = reqwest::get(\"https://example.org\"); }\n\
                      #[cfg(test)]\nmod tests {\n    use ureq::Agent;\n}\n";
        assert_eq!(
            found(source),
            [
                (rule::EGRESS_ONLY, 1),
                (rule::EGRESS_ONLY, 2),
                (rule::EGRESS_ONLY, 4),
            ]
        );
        assert!(scan("src/egress/mod.rs", source, &bans()).is_empty());
    }

    #[test]
    fn bans_come_from_the_guardrails_clippy_configuration() {
        let bans = bans();
        assert!(bans.types.iter().any(|t| t == "axum::extract::Path"));
        assert!(bans.types.iter().any(|t| t == "axum::extract::Query"));
        for name in ["println", "eprintln", "dbg"] {
            assert!(bans.bans_macro(name), "{name}");
        }
    }

    #[test]
    fn raw_extractors_are_found_in_imports_and_paths() {
        assert_eq!(
            found(
                "use axum::extract::{Json, Path};\n\
                 use axum::extract::Query as Q;\n\
                 fn f(_: axum::extract::Path<u32>) {}\n\
                 use axum::extract::*;\n\
                 use axum::extract::State;\n"
            ),
            [
                (rule::NO_RAW_EXTRACTORS, 1),
                (rule::NO_RAW_EXTRACTORS, 2),
                (rule::NO_RAW_EXTRACTORS, 3),
                (rule::NO_RAW_EXTRACTORS, 4),
            ]
        );
    }

    #[test]
    fn aliases_do_not_hide_raw_extractors_or_printing_macros() {
        assert_eq!(
            found(
                "use axum::extract as ex;\n\
                 use axum as web;\n\
                 use web::extract::{self as wx};\n\
                 fn f(_: ex::Path<u32>, _: wx::Query<Paging>, _: ex::Json<Body>) {}\n\
                 type P<T> = crate::ex::Path<T>;\n\
                 use ex::RawQuery;\n\
                 use std::println as say;\n\
                 fn g() { say!(\"x\"); let _ = vec![say!()]; }\n\
                 extern crate axum as ax;\n\
                 fn h(_: ax::extract::Path<u32>, _: ex::State<u8>) {}\n"
            ),
            [
                (rule::NO_RAW_EXTRACTORS, 4),
                (rule::NO_RAW_EXTRACTORS, 4),
                (rule::NO_RAW_EXTRACTORS, 5),
                (rule::NO_RAW_EXTRACTORS, 6),
                (rule::NO_BANNED_MACROS, 7),
                (rule::NO_BANNED_MACROS, 8),
                (rule::NO_BANNED_MACROS, 8),
                (rule::NO_RAW_EXTRACTORS, 10),
            ]
        );
    }

    #[test]
    fn printing_macros_are_found_even_nested_but_not_in_tests() {
        assert_eq!(
            found(
                "fn f() {\n    println!(\"x\");\n    let v = vec![dbg!(1)];\n    std::eprintln!(\"y\");\n    tracing::info!(\"fine\");\n}\n\
                 #[cfg(test)]\nmod tests {\n    fn g() { println!(\"ok in tests\"); }\n}\n\
                 #[test]\nfn t() { dbg!(2); }\n"
            ),
            [
                (rule::NO_BANNED_MACROS, 2),
                (rule::NO_BANNED_MACROS, 3),
                (rule::NO_BANNED_MACROS, 4),
            ]
        );
        assert_eq!(
            found("#[cfg(not(test))]\nfn f() { println!(\"x\"); }\n"),
            [(rule::NO_BANNED_MACROS, 2)]
        );
    }

    #[test]
    fn lint_bypasses_are_found() {
        assert_eq!(
            found(
                "#![allow(clippy::print_stdout)]\n\
                 #[allow(clippy::disallowed_types)]\nfn f() {}\n\
                 #[expect(clippy::disallowed_macros)]\nfn g() {}\n\
                 #[allow(dead_code)]\nfn h() {}\n"
            ),
            [
                (rule::NO_LINT_BYPASS, 1),
                (rule::NO_LINT_BYPASS, 2),
                (rule::NO_LINT_BYPASS, 4),
            ]
        );
    }

    #[test]
    fn unparsable_files_are_reported() {
        assert_eq!(found("fn f( {"), [(rule::SOURCES_PARSE, 1)]);
    }

    #[test]
    fn config_constants_are_read_with_their_lines() {
        let text = "//! c\npub const TLS_TERMINATION: TlsTermination = TlsTermination::Proxy;\n\
                    pub const SESSION_IDLE_MINUTES: u64 = 15;\nconst X: u64 = 2 * 3;\n";
        assert_eq!(
            constant(text, "TLS_TERMINATION"),
            Some(Constant {
                value: ConstValue::Variant("Proxy".into()),
                line: 2
            })
        );
        assert_eq!(
            constant(text, "SESSION_IDLE_MINUTES"),
            Some(Constant {
                value: ConstValue::Int(15),
                line: 3
            })
        );
        assert!(matches!(
            constant(text, "X").unwrap().value,
            ConstValue::Other(_)
        ));
        assert_eq!(constant(text, "MISSING"), None);
    }
}
