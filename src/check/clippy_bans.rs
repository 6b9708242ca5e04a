//! The guardrails' clippy bans: the project's `clippy.toml` must still hold every one.

use super::source::Bans;
use super::{Context, Family, Finding, Rule};
use crate::error::Result;
use crate::fs::read_optional_text;
use crate::template;

pub const CLIPPY_BANS: Rule = Rule {
    id: "clippy-bans",
    title: "clippy.toml bans the raw extractors and printing macros",
    help: "The guardrails' bans (guardrails/clippy-bans.toml) make every use of a raw \
           extractor or printing macro a build failure under `clippy -D warnings`.",
};

pub const FAMILY: Family = Family {
    rules: &[CLIPPY_BANS],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let project = ctx.project;
    let bans = Bans::from_clippy_toml(template::guardrail_clippy_bans());
    let Some(text) = read_optional_text(&project.join("clippy.toml"))? else {
        return Ok(vec![Finding::in_file(
            CLIPPY_BANS.id,
            "clippy.toml",
            "is missing, so nothing bans the raw extractors and printing macros; restore it \
             from .medforge/base/clippy.toml"
                .to_owned(),
        )]);
    };
    let have = Bans::from_clippy_toml(&text);
    let missing: Vec<&String> = bans
        .paths()
        .filter(|path| !have.paths().any(|p| p == *path))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let list = missing
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(vec![Finding::in_file(
        CLIPPY_BANS.id,
        "clippy.toml",
        format!(
            "no longer bans {list}; restore the guardrail bans (guardrails/clippy-bans.toml, \
             appended to .medforge/base/clippy.toml)"
        ),
    )])
}
