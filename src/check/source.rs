//! Reading the project's Rust sources with syn: raw extractors, banned macros and lint
//! bypasses in `src/` (outside test code), the PHI leak patterns of [`super::leaks`], and
//! files that do not parse. Also the pieces the other source checks share: the clippy
//! bans, `use` aliases, and what counts as test code.
//!
//! What is banned comes from the guardrails' clippy bans (`guardrails/clippy-bans.toml`),
//! the same list clippy enforces in the project: `check` finds the uses even where clippy
//! is not run, or was told to look away.

use std::collections::HashMap;
use std::path::Path;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::{Context, Family, Finding, Rule, leaks};
use crate::error::Result;
use crate::fs::{list_files_under, read_optional_text};
use crate::template;

pub const NO_RAW_EXTRACTORS: Rule = Rule {
    id: "no-raw-extractors",
    title: "No raw axum Path or Query extractors in src/",
    help: "Raw extractors accept any type, PHI included, from the URL: use \
           phi_guard::SafePath and SafeQuery, which only accept UrlSafe types.",
};

pub const NO_BANNED_MACROS: Rule = Rule {
    id: "no-banned-macros",
    title: "No println!, eprintln!, print!, eprint! or dbg! in src/",
    help: "They write outside the structured, PHI-free logs. Test code may use them.",
};

pub const NO_LINT_BYPASS: Rule = Rule {
    id: "no-lint-bypass",
    title: "No allow or expect of the guardrail lints in src/",
    help: "#[allow(clippy::disallowed_types)] and friends switch the bans off; only the \
           vendored guardrails may wrap the raw extractors.",
};

pub const SOURCES_PARSE: Rule = Rule {
    id: "sources-parse",
    title: "Every Rust file in src/ parses, so it can be checked",
    help: "A file medforge cannot parse cannot be verified.",
};

pub const FAMILY: Family = Family {
    rules: &[
        NO_RAW_EXTRACTORS,
        NO_BANNED_MACROS,
        NO_LINT_BYPASS,
        leaks::RULE,
        SOURCES_PARSE,
    ],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let bans = Bans::from_clippy_toml(template::guardrail_clippy_bans());
    let mut findings = Vec::new();
    for source in ctx.sources()? {
        findings.extend(scan_parsed(source, &bans));
    }
    Ok(findings)
}

/// A Rust file of the project's `src/`, parsed once for every check that reads it.
pub struct SourceFile {
    /// Relative to the project, `/`-separated.
    pub path: String,
    /// The syntax tree and its aliases, or why the file does not parse.
    pub parsed: std::result::Result<(syn::File, Aliases), syn::Error>,
}

impl SourceFile {
    pub fn parse(path: String, text: &str) -> SourceFile {
        let parsed = syn::parse_file(text).map(|file| {
            let aliases = Aliases::of(&file);
            (file, aliases)
        });
        SourceFile { path, parsed }
    }
}

/// The Rust files of the project's `src/`, parsed.
pub fn read_sources(project: &Path) -> Result<Vec<SourceFile>> {
    let mut sources = Vec::new();
    for file in list_files_under(project, "src")? {
        if !file.ends_with(".rs") {
            continue;
        }
        if let Some(text) = read_optional_text(&project.join(&file))? {
            sources.push(SourceFile::parse(file, &text));
        }
    }
    Ok(sources)
}

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

/// Lints whose `allow` or `expect` switches the bans off.
const BYPASSED_LINTS: &[&str] = &[
    "disallowed_types",
    "disallowed_macros",
    "disallowed_methods",
    "print_stdout",
    "print_stderr",
    "dbg_macro",
];

/// Scans one file of `src/`. A file that does not parse yields one finding saying so.
fn scan_parsed(source: &SourceFile, bans: &Bans) -> Vec<Finding> {
    let path = source.path.as_str();
    let (file, aliases) = match &source.parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![Finding::at(
                SOURCES_PARSE.id,
                path,
                e.span().start().line,
                format!(
                    "does not parse as Rust ({e}), so medforge check cannot verify it; fix the \
                     syntax error"
                ),
            )];
        }
    };
    let mut scan = Scan {
        path,
        bans,
        aliases,
        findings: Vec::new(),
    };
    scan.visit_file(file);
    scan.findings.extend(leaks::scan(path, file, aliases));
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
            self.report(NO_RAW_EXTRACTORS.id, span, message);
        }
    }

    fn banned_macro(&mut self, name: &str, span: Span) {
        if self.bans.bans_macro(name) {
            self.report(
                NO_BANNED_MACROS.id,
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
                    self.report(NO_RAW_EXTRACTORS.id, glob.star_token.span, message);
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

/// The `visit_*` methods of a [`Visit`] implementation that skip test-only items, so only
/// shipped code is checked: `skip_tests!();` in the `impl`.
macro_rules! skip_tests {
    () => {
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
    };
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
pub(super) use skip_tests;

impl<'ast> Visit<'ast> for Scan<'_> {
    skip_tests!();

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        if is_test(&node.attrs) {
            return;
        }
        visit::visit_item_use(self, node);
        use_leaves(&mut Vec::new(), &node.tree, &mut |prefix, leaf| {
            self.use_leaf(prefix, leaf);
        });
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() >= 2 {
            let full = self.aliases.resolve_path(path);
            let span = path
                .segments
                .last()
                .map_or_else(Span::call_site, |s| s.ident.span());
            self.banned_type(&full.join("::"), span);
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
                    NO_LINT_BYPASS.id,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bans() -> Bans {
        Bans::from_clippy_toml(crate::template::guardrail_clippy_bans())
    }

    fn scan(path: &str, text: &str, bans: &Bans) -> Vec<Finding> {
        scan_parsed(&SourceFile::parse(path.to_owned(), text), bans)
    }

    fn found(source: &str) -> Vec<(&'static str, usize)> {
        scan("src/x.rs", source, &bans())
            .into_iter()
            .map(|f| (f.rule, f.line.unwrap_or(0)))
            .collect()
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
                (NO_RAW_EXTRACTORS.id, 1),
                (NO_RAW_EXTRACTORS.id, 2),
                (NO_RAW_EXTRACTORS.id, 3),
                (NO_RAW_EXTRACTORS.id, 4),
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
                (NO_RAW_EXTRACTORS.id, 4),
                (NO_RAW_EXTRACTORS.id, 4),
                (NO_RAW_EXTRACTORS.id, 5),
                (NO_RAW_EXTRACTORS.id, 6),
                (NO_BANNED_MACROS.id, 7),
                (NO_BANNED_MACROS.id, 8),
                (NO_BANNED_MACROS.id, 8),
                (NO_RAW_EXTRACTORS.id, 10),
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
                (NO_BANNED_MACROS.id, 2),
                (NO_BANNED_MACROS.id, 3),
                (NO_BANNED_MACROS.id, 4),
            ]
        );
        assert_eq!(
            found("#[cfg(not(test))]\nfn f() { println!(\"x\"); }\n"),
            [(NO_BANNED_MACROS.id, 2)]
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
                (NO_LINT_BYPASS.id, 1),
                (NO_LINT_BYPASS.id, 2),
                (NO_LINT_BYPASS.id, 4),
            ]
        );
    }

    #[test]
    fn unparsable_files_are_reported() {
        assert_eq!(found("fn f( {"), [(SOURCES_PARSE.id, 1)]);
    }
}
