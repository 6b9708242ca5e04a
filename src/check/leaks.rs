//! PHI leaks the phi-guard types cannot see, because they are a matter of names and data
//! flow rather than of types (guardrails/README.md, "What is not caught"):
//!
//! - PHI-like names in what goes into a URL: fields of `#[derive(UrlSafe)]` types,
//!   `SafePath` / `SafeQuery` bindings, `SafeUrl` query keys and parts, route parameters.
//!   A date of birth passes the types as a `u32`, or as `year`, `month` and `day`.
//! - Raw request data in `tracing` and `log` macros, and in `#[instrument]` spans: a `Uri`
//!   (the path and query string a client sent), a `HeaderMap`, a whole request, the bytes
//!   of a body (a `PhiJson` response is its PHI as JSON). Those are foreign types that
//!   format without complaint.
//!
//! Names are compared word by word (`given_name`, `givenName` and `given-name` all hold
//! "name"). Data is followed within one function, through its parameters' types and its
//! `let` bindings.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat};

use super::source::{Aliases, is_test};
use super::{Finding, Rule};

pub const RULE: Rule = Rule {
    id: "phi-leak-patterns",
    title: "No PHI-like names in URLs, and no raw requests or bodies in logs",
    help: "HIPAA 164.312(a)(1), OWASP ASVS 7.1.1 (README.md, \"Security overview\"): a date of birth as a `u32` or as year/month/day numbers, or a name under \
           a UrlSafe type, passes the types, and so does logging a Uri (its query string), a \
           HeaderMap, a whole request or a body's bytes. Send PHI in JSON bodies as `Phi` \
           fields, keep URLs to opaque ids and paging, and log route templates, statuses and \
           opaque ids.",
};

/// Words that name PHI (the identifiers of HIPAA 164.514(b)(2)(i)), with what they suggest.
/// A word containing "birth" (`dateofbirth`) suggests a date of birth too.
const PHI_WORDS: &[(&[&str], &str)] = &[
    (
        &[
            "name",
            "names",
            "firstname",
            "lastname",
            "surname",
            "forename",
            "givenname",
            "familyname",
            "fullname",
            "maidenname",
        ],
        "a name",
    ),
    (&["dob", "born"], "a date of birth"),
    (
        &["mrn", "ssn", "ahv", "kvnr"],
        "a record or identity number",
    ),
    (
        &["phone", "phones", "telephone", "mobile", "fax"],
        "a phone number",
    ),
    (&["email", "emails", "mail"], "an email address"),
    (
        &[
            "address",
            "addresses",
            "street",
            "zip",
            "zipcode",
            "postcode",
            "postal",
        ],
        "an address",
    ),
];

/// The parts a date splits into. One alone (a year) is not a date; two or more are.
const DATE_PARTS: &[&str] = &["year", "month", "day"];

/// `tracing` and `log` macros, by name.
const LOG_MACROS: &[&str] = &[
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "event",
    "span",
    "trace_span",
    "debug_span",
    "info_span",
    "warn_span",
    "error_span",
    "log",
];

/// Methods whose result still holds what their receiver held (`uri.path()` is still the
/// client's path, `bytes.to_vec()` still the body).
const PASS_THROUGH: &[&str] = &[
    "as_bytes",
    "as_ref",
    "as_str",
    "body",
    "borrow",
    "clone",
    "collect",
    "expect",
    "into_body",
    "ok",
    "path",
    "path_and_query",
    "query",
    "to_owned",
    "to_string",
    "to_vec",
    "unwrap",
    "unwrap_or_default",
];

/// Raw request data, which formats without complaint and may hold PHI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Uri,
    Headers,
    Request,
    Body,
}

impl Raw {
    /// The type a parameter or `let` binding is declared with, by its last path segment.
    fn of_type(name: &str) -> Option<Raw> {
        match name {
            "Uri" | "OriginalUri" => Some(Raw::Uri),
            "HeaderMap" => Some(Raw::Headers),
            "Request" | "Parts" => Some(Raw::Request),
            "Body" | "Bytes" | "Collected" => Some(Raw::Body),
            _ => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Raw::Uri => {
                "a raw URI, whose path and query string hold whatever the client sent, PHI \
                 included; log the route template (`MatchedPath`) and opaque ids instead"
            }
            Raw::Headers => {
                "raw headers, which carry session cookies and tokens and may carry PHI; log \
                 only a named header that holds neither"
            }
            Raw::Request => {
                "a whole request, its URI and headers included; log its method, route \
                 template and opaque ids instead"
            }
            Raw::Body => {
                "the bytes of a body: a `PhiJson` response, or a JSON request, is its PHI in \
                 plain text; log its length or status instead"
            }
        }
    }
}

/// Scans one parsed file of `src/`; `path` is relative to the project.
pub fn scan(path: &str, file: &syn::File, aliases: &Aliases) -> Vec<Finding> {
    let mut scan = Leaks {
        path,
        aliases,
        raw: HashMap::new(),
        checked_urls: HashSet::new(),
        findings: Vec::new(),
    };
    scan.visit_file(file);
    scan.findings
}

struct Leaks<'a> {
    path: &'a str,
    aliases: &'a Aliases,
    /// The bindings of the function being scanned that hold raw request data.
    raw: HashMap<String, Raw>,
    /// `SafeUrl` calls already checked as part of a longer chain, by position.
    checked_urls: HashSet<(usize, usize)>,
    findings: Vec<Finding>,
}

impl Leaks<'_> {
    fn report(&mut self, span: Span, message: String) {
        self.findings
            .push(Finding::at(RULE.id, self.path, span.start().line, message));
    }

    /// The last segment of `path` once its aliases are resolved (`SP` for
    /// `use phi_guard::SafePath as SP;` is `SafePath`).
    fn last_segment(&self, path: &syn::Path) -> Option<String> {
        self.aliases.resolve_path(path).pop()
    }

    fn type_name(&self, ty: &syn::Type) -> Option<String> {
        match ty {
            syn::Type::Path(path) => self.last_segment(&path.path),
            syn::Type::Reference(reference) => self.type_name(&reference.elem),
            syn::Type::Paren(paren) => self.type_name(&paren.elem),
            syn::Type::Group(group) => self.type_name(&group.elem),
            _ => None,
        }
    }

    /// Reports the PHI-like names among `names`, all of which go into one URL at `place`,
    /// and a date split into parts across them.
    fn url_names(&mut self, place: &str, names: &[(String, Span)]) {
        let mut parts: Vec<(&str, Span)> = Vec::new();
        for (name, span) in names {
            if let Some(what) = phi_like(name) {
                self.report(
                    *span,
                    format!(
                        "`{name}` in {place} looks like {what}, which must not go in a URL \
                         (access logs, proxies, browser history and Referer headers keep it); \
                         send it in the JSON body as a `Phi` field and keep URLs to opaque ids \
                         and paging"
                    ),
                );
            }
            if let Some(part) = date_part(name)
                && !parts.iter().any(|(seen, _)| *seen == part)
            {
                parts.push((part, *span));
            }
        }
        if let [(_, span), _, ..] = parts[..] {
            let list: Vec<String> = parts.iter().map(|(part, _)| format!("`{part}`")).collect();
            self.report(
                span,
                format!(
                    "{} in {place} make up a date, and a date of birth split into numbers \
                     passes the URL types; send dates in the JSON body as `Phi` fields",
                    list.join(", ")
                ),
            );
        }
    }

    /// The fields of a `#[derive(UrlSafe)]` struct or enum variant, with their serde names.
    fn url_safe_fields(&mut self, attrs: &[syn::Attribute], fields: &syn::Fields) {
        if !attrs.iter().any(|attr| self.derives_url_safe(attr)) {
            return;
        }
        let mut names = Vec::new();
        for field in fields {
            if let Some(ident) = &field.ident {
                names.push((unraw(ident), ident.span()));
            }
            for (name, span) in serde_names(&field.attrs) {
                names.push((name, span));
            }
        }
        self.url_names("a UrlSafe type", &names);
    }

    fn derives_url_safe(&self, attr: &syn::Attribute) -> bool {
        if !attr.path().is_ident("derive") {
            return false;
        }
        attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        )
        .is_ok_and(|paths| {
            paths
                .iter()
                .any(|path| self.last_segment(path).as_deref() == Some("UrlSafe"))
        })
    }

    /// A function's parameters: `SafePath` / `SafeQuery` bindings are URL names, and raw
    /// request types make their bindings raw. `#[instrument]` records what it does not skip.
    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature) {
        let mut raw_params = Vec::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(param) = input else {
                continue;
            };
            let type_name = self.type_name(&param.ty);
            let bound = bindings(&param.pat);
            match type_name.as_deref() {
                Some("SafePath" | "SafeQuery") => {
                    let names: Vec<(String, Span)> = bound
                        .iter()
                        .map(|ident| (unraw(ident), ident.span()))
                        .collect();
                    self.url_names("a SafePath or SafeQuery parameter", &names);
                }
                Some(name) => {
                    if let Some(raw) = Raw::of_type(name) {
                        for ident in bound {
                            self.raw.insert(ident.to_string(), raw);
                            raw_params.push((ident.to_string(), raw, ident.span()));
                        }
                    }
                }
                None => {}
            }
        }
        for attr in attrs {
            if self.last_segment(attr.path()).as_deref() == Some("instrument") {
                self.instrument(attr, &raw_params);
            }
        }
    }

    /// `#[instrument]` records every parameter it does not skip, with `Debug`.
    fn instrument(&mut self, attr: &syn::Attribute, raw_params: &[(String, Raw, Span)]) {
        let tokens = match &attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut skipped: HashSet<String> = HashSet::new();
        let mut skip_all = false;
        for (i, tree) in trees.iter().enumerate() {
            let TokenTree::Ident(ident) = tree else {
                continue;
            };
            let group = match trees.get(i + 1) {
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
                    Some(group.stream())
                }
                _ => None,
            };
            match (ident.to_string().as_str(), group) {
                ("skip_all", _) => skip_all = true,
                ("skip", Some(names)) => {
                    skipped.extend(names.into_iter().filter_map(|name| match name {
                        TokenTree::Ident(name) => Some(name.to_string()),
                        _ => None,
                    }))
                }
                ("fields", Some(fields)) => self.log_arguments("#[instrument(fields)]", fields),
                _ => {}
            }
        }
        if skip_all {
            return;
        }
        for (name, raw, span) in raw_params {
            if !skipped.contains(name) {
                self.report(
                    *span,
                    format!(
                        "`#[instrument]` records `{name}`, {}; add it to `skip(...)` or use \
                         `skip_all` and list the fields to record",
                        raw.what()
                    ),
                );
            }
        }
    }

    /// Walks a function that is not test code with its own raw bindings, starting from its
    /// parameters.
    fn scoped(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        walk: impl FnOnce(&mut Self),
    ) {
        if is_test(attrs) {
            return;
        }
        let outer = std::mem::take(&mut self.raw);
        self.function(attrs, sig);
        walk(self);
        self.raw = outer;
    }

    /// What raw request data `expr` evaluates to, if any.
    fn raw_of(&self, expr: &Expr) -> Option<Raw> {
        match expr {
            Expr::Path(path) if path.qself.is_none() => path
                .path
                .get_ident()
                .and_then(|ident| self.raw.get(&ident.to_string()).copied()),
            Expr::Reference(reference) => self.raw_of(&reference.expr),
            Expr::Paren(paren) => self.raw_of(&paren.expr),
            Expr::Group(group) => self.raw_of(&group.expr),
            Expr::Await(wait) => self.raw_of(&wait.base),
            Expr::Try(try_expr) => self.raw_of(&try_expr.expr),
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => {
                self.raw_of(&unary.expr)
            }
            Expr::MethodCall(call) => {
                let method = call.method.to_string();
                match (method.as_str(), call.args.len()) {
                    ("uri", 0) => Some(Raw::Uri),
                    ("headers" | "headers_mut", 0) => Some(Raw::Headers),
                    ("to_bytes", 0) => Some(Raw::Body),
                    (method, _) if PASS_THROUGH.contains(&method) => self.raw_of(&call.receiver),
                    _ => None,
                }
            }
            Expr::Field(field) => match &field.member {
                syn::Member::Named(member) if member == "uri" => Some(Raw::Uri),
                syn::Member::Named(member) if member == "headers" => Some(Raw::Headers),
                syn::Member::Named(member) if member == "body" => {
                    self.raw_of(&field.base).map(|_| Raw::Body)
                }
                _ => None,
            },
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return None;
                };
                match self.last_segment(&func.path).as_deref() {
                    Some("to_bytes") => Some(Raw::Body),
                    // `String::from_utf8(bytes.to_vec())`, `tracing::field::display(uri)`.
                    Some("from_utf8" | "from_utf8_lossy" | "display" | "debug") => {
                        call.args.first().and_then(|arg| self.raw_of(arg))
                    }
                    _ => None,
                }
            }
            Expr::Macro(mac) if self.last_segment(&mac.mac.path).as_deref() == Some("format") => {
                macro_arguments(mac.mac.tokens.clone())
                    .iter()
                    .find_map(|arg| self.leaked(arg).map(|(raw, _)| raw))
            }
            _ => None,
        }
    }

    /// The first part of `expr` that is raw request data. A method's receiver and a
    /// field's base are not searched on their own: `request.method()` is not the request.
    fn leaked<'e>(&self, expr: &'e Expr) -> Option<(Raw, &'e Expr)> {
        if let Some(raw) = self.raw_of(expr) {
            return Some((raw, expr));
        }
        let inner: Vec<&Expr> = match expr {
            Expr::Reference(e) => vec![&*e.expr],
            Expr::Paren(e) => vec![&*e.expr],
            Expr::Group(e) => vec![&*e.expr],
            Expr::Unary(e) => vec![&*e.expr],
            Expr::Await(e) => vec![&*e.base],
            Expr::Try(e) => vec![&*e.expr],
            Expr::Cast(e) => vec![&*e.expr],
            Expr::Binary(e) => vec![&*e.left, &*e.right],
            Expr::MethodCall(e) => e.args.iter().collect(),
            Expr::Call(e) => e.args.iter().collect(),
            Expr::Tuple(e) => e.elems.iter().collect(),
            Expr::Array(e) => e.elems.iter().collect(),
            _ => Vec::new(),
        };
        inner.into_iter().find_map(|e| self.leaked(e))
    }

    /// The arguments of a log macro (or of `#[instrument(fields(...))]`).
    fn log_arguments(&mut self, name: &str, tokens: TokenStream) {
        for arg in macro_arguments(tokens) {
            if let Some((raw, found)) = self.leaked(&arg) {
                let shown = shorten(&found.to_token_stream().to_string());
                self.report(
                    found.span(),
                    format!("`{name}` logs `{shown}`, {}", raw.what()),
                );
            }
        }
    }

    /// A `SafeUrl` chain (`.segment(..)`, `.query("key", ..)`): its keys and the names of
    /// the values put in it, checked once for the whole chain.
    fn url_chain(&mut self, outer: &syn::ExprMethodCall) {
        let mut names = Vec::new();
        let mut call = Some(outer);
        while let Some(current) = call {
            let method = current.method.to_string();
            if method != "segment" && method != "query" {
                break;
            }
            let at = current.method.span().start();
            if !self.checked_urls.insert((at.line, at.column)) {
                return;
            }
            let args: Vec<&Expr> = current.args.iter().collect();
            match (method.as_str(), &args[..]) {
                ("segment", [value]) => names.extend(value_name(value)),
                ("query", [key, value]) => {
                    names.extend(string_literal(key).map(|lit| (lit.value(), lit.span())));
                    names.extend(value_name(value));
                }
                // reqwest's `.query(&[("key", value)])`.
                ("query", [pairs]) => names.extend(pair_keys(pairs)),
                _ => {}
            }
            call = match &*current.receiver {
                Expr::MethodCall(receiver) => Some(receiver),
                _ => None,
            };
        }
        names.reverse();
        self.url_names("a URL built with SafeUrl", &names);
    }

    /// A string that looks like a route (`/patients/{id}`): its parameters are URL names.
    fn route(&mut self, lit: &syn::LitStr) {
        let value = lit.value();
        if !value.starts_with('/') {
            return;
        }
        let names: Vec<(String, Span)> = placeholders(&value)
            .into_iter()
            .map(|name| (name.trim_start_matches('*').to_owned(), lit.span()))
            .collect();
        self.url_names("a route path", &names);
    }

    /// String literals inside a macro's tokens, which syn does not parse.
    fn routes_in(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Literal(literal) => {
                    if let Ok(lit) = syn::parse2::<syn::LitStr>(TokenTree::Literal(literal).into())
                    {
                        self.route(&lit);
                    }
                }
                TokenTree::Group(group) => self.routes_in(group.stream()),
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Leaks<'_> {
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if !is_test(&node.attrs) {
            visit::visit_item_mod(self, node);
        }
    }

    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if !is_test(&node.attrs) {
            visit::visit_item_impl(self, node);
        }
    }

    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.scoped(&node.attrs, &node.sig, |scan| {
            visit::visit_item_fn(scan, node)
        });
    }

    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.scoped(&node.attrs, &node.sig, |scan| {
            visit::visit_impl_item_fn(scan, node);
        });
    }

    fn visit_item_struct(&mut self, node: &'ast syn::ItemStruct) {
        if !is_test(&node.attrs) {
            self.url_safe_fields(&node.attrs, &node.fields);
            visit::visit_item_struct(self, node);
        }
    }

    fn visit_item_enum(&mut self, node: &'ast syn::ItemEnum) {
        if !is_test(&node.attrs) {
            for variant in &node.variants {
                self.url_safe_fields(&node.attrs, &variant.fields);
            }
            visit::visit_item_enum(self, node);
        }
    }

    /// Attributes are read where they matter (derives, `#[instrument]`); doc comments are
    /// not routes.
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_local(&mut self, local: &'ast syn::Local) {
        visit::visit_local(self, local);
        let init = local.init.as_ref().map(|init| &*init.expr);
        // `let (parts, body) = request.into_parts();`
        if let (Pat::Tuple(tuple), Some(Expr::MethodCall(call))) = (&local.pat, init)
            && call.method == "into_parts"
            && self.raw_of(&call.receiver) == Some(Raw::Request)
        {
            for (pat, raw) in tuple.elems.iter().zip([Raw::Request, Raw::Body]) {
                for ident in bindings(pat) {
                    self.raw.insert(ident.to_string(), raw);
                }
            }
            return;
        }
        let (pat, declared) = match &local.pat {
            Pat::Type(typed) => (&*typed.pat, self.type_name(&typed.ty)),
            pat => (pat, None),
        };
        let raw = declared
            .as_deref()
            .and_then(Raw::of_type)
            .or_else(|| init.and_then(|init| self.raw_of(init)));
        match (pat, raw) {
            (Pat::Ident(ident), Some(raw)) => {
                self.raw.insert(ident.ident.to_string(), raw);
            }
            // Shadowed by something that is not raw.
            _ => {
                for ident in bindings(pat) {
                    self.raw.remove(&ident.to_string());
                }
            }
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if method == "segment" || method == "query" {
            self.url_chain(call);
        }
        // `span.record("uri", tracing::field::display(request.uri()))`.
        if method == "record"
            && let [_, value] = &call.args.iter().collect::<Vec<_>>()[..]
            && let Some((raw, found)) = self.leaked(value)
        {
            let shown = shorten(&found.to_token_stream().to_string());
            self.report(
                found.span(),
                format!("`record` puts `{shown}` in a span, {}", raw.what()),
            );
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.route(lit);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let resolved = self.aliases.resolve_path(&mac.path);
        let log = match &resolved[..] {
            [name] => LOG_MACROS.contains(&name.as_str()),
            [first, .., name] => {
                matches!(first.as_str(), "tracing" | "log") && LOG_MACROS.contains(&name.as_str())
            }
            [] => false,
        };
        if log {
            let name = format!(
                "{}!",
                mac.path.to_token_stream().to_string().replace(' ', "")
            );
            self.log_arguments(&name, mac.tokens.clone());
        }
        self.routes_in(mac.tokens.clone());
    }
}

/// The words of an identifier or key, lowercase: `givenName`, `given_name` and
/// `given-name` are `given` and `name`. Trailing digits are dropped (`address2`).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut after_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut current));
            after_lower = false;
            continue;
        }
        if c.is_uppercase() && after_lower {
            words.push(std::mem::take(&mut current));
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.push(current);
    words
        .into_iter()
        .map(|word| {
            word.trim_end_matches(|c: char| c.is_ascii_digit())
                .to_owned()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// What PHI `name` looks like, if any.
fn phi_like(name: &str) -> Option<&'static str> {
    words(name).iter().find_map(|word| {
        if word.contains("birth") {
            return Some("a date of birth");
        }
        PHI_WORDS
            .iter()
            .find(|(words, _)| words.contains(&word.as_str()))
            .map(|(_, what)| *what)
    })
}

/// The part of a date `name` is, if any (`birth_year` is a year, and a date of birth).
fn date_part(name: &str) -> Option<&'static str> {
    words(name)
        .iter()
        .find_map(|word| DATE_PARTS.iter().find(|part| **part == word).copied())
}

fn unraw(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// Every name a pattern binds.
fn bindings(pat: &Pat) -> Vec<&syn::Ident> {
    match pat {
        Pat::Ident(ident) => {
            let mut found = vec![&ident.ident];
            if let Some((_, sub)) = &ident.subpat {
                found.extend(bindings(sub));
            }
            found
        }
        Pat::TupleStruct(tuple) => tuple.elems.iter().flat_map(bindings).collect(),
        Pat::Tuple(tuple) => tuple.elems.iter().flat_map(bindings).collect(),
        Pat::Struct(item) => item
            .fields
            .iter()
            .flat_map(|field| bindings(&field.pat))
            .collect(),
        Pat::Reference(reference) => bindings(&reference.pat),
        Pat::Type(typed) => bindings(&typed.pat),
        Pat::Slice(slice) => slice.elems.iter().flat_map(bindings).collect(),
        Pat::Paren(paren) => bindings(&paren.pat),
        _ => Vec::new(),
    }
}

/// `#[serde(rename = "...")]` and `#[serde(alias = "...")]` names, which are what the URL
/// holds.
fn serde_names(attrs: &[syn::Attribute]) -> Vec<(String, Span)> {
    let mut names = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        // Anything serde accepts but this does not read is skipped, not an error.
        let _ = attr.parse_nested_meta(|meta| {
            let named = meta.path.is_ident("rename") || meta.path.is_ident("alias");
            if meta.input.peek(syn::Token![=]) {
                let value: Expr = meta.value()?.parse()?;
                if let (true, Some(lit)) = (named, string_literal(&value)) {
                    names.push((lit.value(), lit.span()));
                }
            } else if meta.input.peek(syn::token::Paren) {
                // `rename(deserialize = "...")`.
                meta.parse_nested_meta(|inner| {
                    let value: Expr = inner.value()?.parse()?;
                    if let (true, Some(lit)) = (named, string_literal(&value)) {
                        names.push((lit.value(), lit.span()));
                    }
                    Ok(())
                })?;
            }
            Ok(())
        });
    }
    names
}

fn string_literal(expr: &Expr) -> Option<&syn::LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Some(lit),
        Expr::Reference(reference) => string_literal(&reference.expr),
        _ => None,
    }
}

/// The name of a variable or field put in a URL (`dob`, `patient.birth_year`).
fn value_name(expr: &Expr) -> Option<(String, Span)> {
    match expr {
        Expr::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| (unraw(&s.ident), s.ident.span())),
        Expr::Field(field) => match &field.member {
            syn::Member::Named(ident) => Some((unraw(ident), ident.span())),
            syn::Member::Unnamed(_) => None,
        },
        Expr::Reference(reference) => value_name(&reference.expr),
        Expr::MethodCall(call) if PASS_THROUGH.contains(&call.method.to_string().as_str()) => {
            value_name(&call.receiver)
        }
        _ => None,
    }
}

/// The string keys of `&[("key", value), ...]`.
fn pair_keys(expr: &Expr) -> Vec<(String, Span)> {
    match expr {
        Expr::Reference(reference) => pair_keys(&reference.expr),
        Expr::Array(array) => array.elems.iter().flat_map(pair_keys).collect(),
        Expr::Tuple(tuple) => tuple
            .elems
            .first()
            .and_then(string_literal)
            .map(|lit| vec![(lit.value(), lit.span())])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The `{name}` parameters of a route or format string; `{{` is a literal brace.
fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let end = rest.find(['}', ':']).unwrap_or(rest.len());
        let name = &rest[..end];
        if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) {
            found.push(name.to_owned());
        }
        rest = &rest[end..];
    }
    found
}

/// The arguments of a `tracing` / `log` / `format!` macro as expressions. Fields lose their
/// name (`uri = %value` is `value`), `target:`-style settings are dropped, and a format
/// string stands for the variables it captures (`"{uri}"` is `uri`).
fn macro_arguments(tokens: TokenStream) -> Vec<Expr> {
    let mut chunks: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(p) if matches!(p.as_char(), ',' | ';') => chunks.push(Vec::new()),
            _ => chunks.last_mut().expect("never empty").push(tree),
        }
    }
    let mut arguments = Vec::new();
    for mut chunk in chunks {
        // `target: "..."`, `parent: span`, `name: "..."`.
        if let [TokenTree::Ident(_), TokenTree::Punct(colon), next, ..] = &chunk[..]
            && colon.as_char() == ':'
            && !matches!(next, TokenTree::Punct(p) if p.as_char() == ':')
        {
            chunk.drain(..2);
        }
        // `name = value`, `http.uri = value`, `"name" = value`: the `=` alone, not `==`.
        let assign = chunk.iter().enumerate().position(|(i, tree)| {
            matches!(tree, TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Alone)
                && !matches!(i.checked_sub(1).map(|j| &chunk[j]),
                    Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint)
        });
        if let Some(at) = assign {
            chunk.drain(..=at);
        }
        if matches!(chunk.first(), Some(TokenTree::Punct(p)) if matches!(p.as_char(), '%' | '?')) {
            chunk.remove(0);
        }
        let tokens: TokenStream = chunk.into_iter().collect();
        if tokens.is_empty() {
            continue;
        }
        if let Ok(lit) = syn::parse2::<syn::LitStr>(tokens.clone()) {
            for name in placeholders(&lit.value()) {
                if let Ok(ident) = syn::parse_str::<syn::Ident>(&name) {
                    let mut path = syn::Path::from(ident);
                    path.segments[0].ident.set_span(lit.span());
                    arguments.push(Expr::Path(syn::ExprPath {
                        attrs: Vec::new(),
                        qself: None,
                        path,
                    }));
                }
            }
        } else if let Ok(expr) = syn::parse2::<Expr>(tokens) {
            arguments.push(expr);
        }
    }
    arguments
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Vec<(usize, String)> {
        let file = syn::parse_file(source).unwrap();
        scan("src/x.rs", &file, &Aliases::of(&file))
            .into_iter()
            .map(|f| (f.line.unwrap_or(0), f.message))
            .collect()
    }

    fn lines(source: &str) -> Vec<usize> {
        found(source).into_iter().map(|(line, _)| line).collect()
    }

    #[test]
    fn words_split_every_naming_style() {
        assert_eq!(words("givenName"), ["given", "name"]);
        assert_eq!(words("given_name"), ["given", "name"]);
        assert_eq!(words("given-name"), ["given", "name"]);
        assert_eq!(words("DOB"), ["dob"]);
        assert_eq!(words("dateOfBirth"), ["date", "of", "birth"]);
        assert_eq!(words("address2"), ["address"]);
        assert_eq!(phi_like("dateofbirth"), Some("a date of birth"));
        assert_eq!(phi_like("patient_mrn"), Some("a record or identity number"));
        assert_eq!(phi_like("page"), None);
        assert_eq!(phi_like("filename"), None);
        assert_eq!(date_part("birth_year"), Some("year"));
        assert_eq!(date_part("days"), None);
    }

    #[test]
    fn phi_like_fields_of_url_safe_types_are_found() {
        let source = "#[derive(Deserialize, UrlSafe)]\n\
                      struct Search {\n\
                          page: u32,\n\
                          #[serde(rename = \"dob\")]\n\
                          value: u32,\n\
                          familyName: Option<u32>,\n\
                      }\n\
                      #[derive(phi_guard::UrlSafe)]\n\
                      struct Born { year: u16, month: u8, day: u8 }\n\
                      #[derive(UrlSafe)]\n\
                      struct Paging { after: Option<OpaqueId>, limit: Option<u32>, year: u16 }\n\
                      #[derive(Deserialize)]\n\
                      struct Body { name: Phi<String> }\n";
        let found = found(source);
        assert_eq!(
            found.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [4, 6, 9]
        );
        assert!(found[0].1.contains("`dob`"), "{}", found[0].1);
        assert!(found[0].1.contains("a date of birth"), "{}", found[0].1);
        assert!(found[1].1.contains("a name"), "{}", found[1].1);
        assert!(
            found[2].1.contains("`year`, `month`, `day`"),
            "{}",
            found[2].1
        );
    }

    #[test]
    fn safe_path_and_query_bindings_are_url_names() {
        assert_eq!(
            lines(
                "use phi_guard::SafePath as P;\n\
                 async fn by_dob(SafePath(dob): SafePath<u32>) {}\n\
                 async fn by_date(P((year, month, day)): P<(u16, u8, u8)>) {}\n\
                 async fn by_id(SafePath(id): SafePath<PatientId>, SafeQuery(paging): SafeQuery<Paging>) {}\n"
            ),
            [2, 3]
        );
    }

    #[test]
    fn safe_url_keys_values_and_routes_are_url_names() {
        assert_eq!(
            lines(
                "fn f(id: PatientId, dob: u32) {\n\
                     let _ = SafeUrl::new(\"/patients\").segment(id).query(\"page\", 2u32);\n\
                     let _ = SafeUrl::new(\"/patients\").query(\"mrn\", 4711u64);\n\
                     let _ = SafeUrl::new(\"/patients\").segment(dob);\n\
                     let _ = SafeUrl::new(\"/p\").query(\"y\", 1).query(\"month\", 2).query(\"day\", 3);\n\
                     let _ = client.get(url).query(&[(\"email\", 1u8)]);\n\
                     let _ = Router::new().route(\"/patients/by-name/{family_name}\", get(h));\n\
                     let _ = format!(\"/patients/{phone}\");\n\
                     let _ = Router::new().route(\"/patients/{id}\", get(h));\n\
                 }\n"
            ),
            [3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn raw_request_parts_in_log_macros_are_found() {
        let source = "use axum::http::{HeaderMap, Uri};\n\
                      async fn h(uri: Uri, headers: HeaderMap, request: Request) {\n\
                          tracing::info!(uri = %uri, \"request\");\n\
                          tracing::debug!(?headers);\n\
                          info!(\"got {request:?}\");\n\
                          tracing::info!(path = request.uri().path(), method = %request.method());\n\
                          let query = request.uri().query().unwrap_or_default().to_owned();\n\
                          log::warn!(\"{}\", query);\n\
                          tracing::info!(count = headers.len(), agent = ?headers.get(\"user-agent\"));\n\
                          let uri = uri.path().len();\n\
                          tracing::info!(uri);\n\
                          Span::current().record(\"u\", tracing::field::display(request.uri()));\n\
                          tracing::info!(same = 1 == 1, \"fine\");\n\
                      }\n\
                      fn g(parts: &Parts) { tracing::error!(headers = ?parts.headers); }\n\
                      #[cfg(test)]\nmod tests { fn t(uri: Uri) { tracing::info!(%uri); } }\n";
        let found = found(source);
        assert_eq!(
            found.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [3, 4, 5, 6, 8, 12, 15]
        );
        assert!(found[0].1.contains("a raw URI"), "{}", found[0].1);
        assert!(found[1].1.contains("raw headers"), "{}", found[1].1);
        assert!(found[2].1.contains("a whole request"), "{}", found[2].1);
    }

    #[test]
    fn body_bytes_in_log_macros_are_found() {
        assert_eq!(
            lines(
                "async fn middleware(request: Request, next: Next) -> Response {\n\
                     let response = next.run(request).await;\n\
                     let (parts, body) = response.into_parts();\n\
                     let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();\n\
                     tracing::info!(?bytes, status = %parts.status);\n\
                     let text = String::from_utf8_lossy(&bytes);\n\
                     tracing::info!(body = %text);\n\
                     let collected = body.collect().await.unwrap().to_bytes();\n\
                     tracing::debug!(len = collected.len(), \"fine\");\n\
                     tracing::debug!(\"{}\", format!(\"{collected:?}\"));\n\
                     todo!()\n\
                 }\n"
            ),
            [5, 7, 10]
        );
    }

    #[test]
    fn instrument_records_unskipped_raw_parameters() {
        assert_eq!(
            lines(
                "#[tracing::instrument]\n\
                 async fn a(headers: HeaderMap, id: PatientId) {}\n\
                 #[instrument(skip(headers))]\n\
                 async fn b(headers: HeaderMap, uri: Uri) {}\n\
                 #[instrument(skip_all, fields(uri = %uri))]\n\
                 async fn c(uri: Uri) {}\n\
                 #[instrument(skip_all)]\n\
                 async fn d(request: Request) {}\n"
            ),
            [2, 4, 5]
        );
    }

    #[test]
    fn shadowing_a_raw_binding_clears_it() {
        assert_eq!(
            lines(
                "fn f(uri: Uri) {\n\
                     let uri = 3;\n\
                     tracing::info!(uri);\n\
                 }\n\
                 fn g() { let uri = 4; tracing::info!(uri); }\n"
            ),
            Vec::<usize>::new()
        );
    }
}
