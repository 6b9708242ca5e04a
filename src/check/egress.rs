//! HTTP clients only in the egress client: PHI may leave the service only through
//! `src/egress/`, which sends to the vendors of `compliance/vendors.toml` and audits every
//! attempt, so no other file of `src/` may name an HTTP client.

use proc_macro2::Span;
use syn::visit::{self, Visit};

use super::source::{Aliases, SourceFile, is_test, skip_tests};
use super::{Context, Family, Finding, Rule};
use crate::error::Result;

pub const EGRESS_ONLY: Rule = Rule {
    id: "egress-only",
    title: "HTTP clients are used only by the egress client",
    help: "HIPAA 164.308(b), GDPR Art. 28 (README.md, \"Sending data out\"): PHI leaves only through src/egress/, which sends to the vendors \
           of compliance/vendors.toml with a signed agreement and an allowed region, and \
           audits every attempt. reqwest, hyper's client and the like elsewhere in src/ \
           would bypass it.",
};

pub const FAMILY: Family = Family {
    rules: &[EGRESS_ONLY],
    check,
};

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

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for source in ctx.sources()? {
        findings.extend(scan_parsed(source));
    }
    Ok(findings)
}

/// Scans one file of `src/`. A file that does not parse is reported by `sources-parse`,
/// not here.
fn scan_parsed(source: &SourceFile) -> Vec<Finding> {
    let path = source.path.as_str();
    if path.starts_with(EGRESS_DIR) {
        return Vec::new();
    }
    let Ok((file, aliases)) = &source.parsed else {
        return Vec::new();
    };
    let mut scan = Outbound {
        path,
        aliases,
        findings: Vec::new(),
    };
    scan.visit_file(file);
    scan.findings
}

struct Outbound<'a> {
    path: &'a str,
    aliases: &'a Aliases,
    findings: Vec<Finding>,
}

impl Outbound<'_> {
    /// An HTTP client named outside the egress client.
    fn outbound(&mut self, segments: &[String], span: Span) {
        if let Some(client) = http_client(segments) {
            let message = format!(
                "uses `{client}`, an HTTP client outside {EGRESS_DIR}: PHI may leave only \
                 through the egress client (state.egress), which sends to the vendors of \
                 compliance/vendors.toml and audits every attempt"
            );
            self.findings.push(Finding::at(
                EGRESS_ONLY.id,
                self.path,
                span.start().line,
                message,
            ));
        }
    }
}

impl<'ast> Visit<'ast> for Outbound<'_> {
    skip_tests!();

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        if is_test(&node.attrs) {
            return;
        }
        visit::visit_item_use(self, node);
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
            let first = path
                .segments
                .first()
                .map_or_else(Span::call_site, |s| s.ident.span());
            self.outbound(&full, first);
        }
        visit::visit_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(path: &str, text: &str) -> Vec<Finding> {
        scan_parsed(&SourceFile::parse(path.to_owned(), text))
    }

    fn found(source: &str) -> Vec<(&'static str, usize)> {
        scan("src/x.rs", source)
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
                (EGRESS_ONLY.id, 1),
                (EGRESS_ONLY.id, 2),
                (EGRESS_ONLY.id, 4),
            ]
        );
        assert!(scan("src/egress/mod.rs", source).is_empty());
    }
}
