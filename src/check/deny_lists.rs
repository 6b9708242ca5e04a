//! The AI tools' deny-lists and agent rules: each selected tool's files must exist and hold
//! every line medforge generated for them. Which files belong to which tool is the
//! `ai_tools` option's declaration in the option table.

use std::collections::HashSet;

use super::{Context, Family, Finding, Rule};
use crate::error::{Error, Result};
use crate::fs::read_optional_text;
use crate::options::{self, When};
use crate::record;

pub const AI_DENY_LISTS: Rule = Rule {
    id: "ai-deny-lists",
    title: "AI deny-lists and agent rules are present and complete for every selected tool",
    help: "README.md, \"AI coding tools\": each selected AI tool's files hold every entry of the one deny-list \
           (ai-deny-list.rhai). Adding entries is fine; removing one is not.",
};

pub const FAMILY: Family = Family {
    rules: &[AI_DENY_LISTS],
    check,
};

/// The files generated for AI tools (a file, or a folder for everything in it), each with
/// the tool it belongs to.
fn ai_tool_files() -> Vec<(&'static str, &'static str)> {
    options::AI_TOOLS
        .files
        .iter()
        .flat_map(|conditional| {
            let tool = match conditional.when {
                When::Selected(tool) => tool,
                When::AnySelected => "every AI tool",
            };
            conditional.files.iter().map(move |file| (*file, tool))
        })
        .collect()
}

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let (project, reference) = (ctx.project, ctx.reference);
    let tools = ai_tool_files();
    let mut findings = Vec::new();
    for file in record::generated_files(reference)? {
        let Some((_, tool)) = tools
            .iter()
            .find(|(entry, _)| file == *entry || file.starts_with(&format!("{entry}/")))
        else {
            continue;
        };
        let want = std::fs::read_to_string(reference.join(&file))
            .map_err(Error::io("cannot read", reference.join(&file)))?;
        let Some(have) = read_optional_text(&project.join(&file))? else {
            findings.push(Finding::in_file(
                AI_DENY_LISTS.id,
                &file,
                format!(
                    "is missing, so {tool} is not kept away from secrets and real data; restore \
                     it from .medforge/base/{file}, or drop {tool} from ai_tools with \
                     `medforge update --set ai_tools=...`"
                ),
            ));
            continue;
        };
        // Line by line, so any format works; a trailing comma may come and go as entries
        // are added to a JSON list.
        let normalize = |line: &str| line.trim().trim_end_matches(',').to_owned();
        let present: HashSet<String> = have.lines().map(normalize).collect();
        let missing: Vec<String> = want
            .lines()
            .map(normalize)
            .filter(|line| !line.is_empty() && !present.contains(line))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(5).map(|l| format!("`{l}`")).collect();
            let more = if missing.len() > 5 {
                format!(" and {} more", missing.len() - 5)
            } else {
                String::new()
            };
            findings.push(Finding::in_file(
                AI_DENY_LISTS.id,
                &file,
                format!(
                    "lacks {} line(s) medforge generated for {tool}: {}{more}; put them back \
                     (adding entries is fine, removing them is not; the generated file is \
                     .medforge/base/{file})",
                    missing.len(),
                    shown.join(", ")
                ),
            ));
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ai_tool_files_come_from_the_option_table() {
        let files = ai_tool_files();
        assert!(files.contains(&(".cursorignore", "cursor")));
        assert!(files.contains(&(".zed", "zed")));
        assert!(files.contains(&("AGENTS.md", "every AI tool")));
    }
}
