//! Regions: the lines of a shared project file that medforge owns, between a line holding
//! `medforge:ID:start` and one holding `medforge:ID:end` (in a comment of the file's own
//! language). `medforge add resource` and `medforge update` rewrite what is between them
//! from the recorded resources, so a module list or the access matrix gains an entry
//! without medforge editing the code around it.

/// Replaces the lines between the markers of region `id` in `text` with `content`, each
/// line indented like the start marker. `None` when the markers are not both there, in
/// order.
pub fn fill(text: &str, id: &str, content: &str) -> Option<String> {
    let start_marker = format!("medforge:{id}:start");
    let end_marker = format!("medforge:{id}:end");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|line| line.contains(&start_marker))?;
    let end = start
        + lines[start..]
            .iter()
            .position(|line| line.contains(&end_marker))?;
    let indent: String = lines[start]
        .chars()
        .take_while(|c| c.is_whitespace() && *c != '\n')
        .collect();
    let mut out: String = lines[..=start].concat();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for line in content.lines() {
        if !line.trim().is_empty() {
            out.push_str(&indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str(&lines[end..].concat());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_replaced_whole_and_indented_like_its_marker() {
        let text = "fn f() {\n    // medforge:arms:start (written by medforge)\n    old();\n    // medforge:arms:end\n}\n";
        let filled = fill(text, "arms", "a();\n\nb();\n").unwrap();
        assert_eq!(
            filled,
            "fn f() {\n    // medforge:arms:start (written by medforge)\n    a();\n\n    b();\n    // medforge:arms:end\n}\n"
        );
        // Filling again with the same content changes nothing; empty content empties it.
        assert_eq!(fill(&filled, "arms", "a();\n\nb();\n").unwrap(), filled);
        assert_eq!(
            fill(text, "arms", "").unwrap(),
            "fn f() {\n    // medforge:arms:start (written by medforge)\n    // medforge:arms:end\n}\n"
        );
    }

    #[test]
    fn missing_or_misordered_markers_are_no_region() {
        assert!(fill("nothing here\n", "arms", "a\n").is_none());
        assert!(
            fill(
                "// medforge:arms:end\n// medforge:arms:start\n",
                "arms",
                "a\n"
            )
            .is_none()
        );
        assert!(fill("// medforge:arms:start\n", "arms", "a\n").is_none());
    }
}
