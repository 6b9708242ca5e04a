//! `medforge check --sarif`: the report as SARIF 2.1.0, the format code-scanning services
//! (GitHub, GitLab, Azure DevOps) and editors read. One run; one rule per check; one
//! result per finding, located relative to the project root (`uriBaseId`).

use serde::Serialize;

use crate::check::{self, CheckReport};

pub const SARIF_VERSION: &str = "2.1.0";
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base every result's location is relative to: the project root.
pub const PROJECT_ROOT: &str = "PROJECTROOT";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    original_uri_base_ids: std::collections::BTreeMap<&'static str, ArtifactLocation>,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    short_description: Message,
    full_description: Message,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

/// The report as a SARIF 2.1.0 log (JSON).
pub fn to_sarif(report: &CheckReport) -> serde_json::Value {
    let rules = check::rules()
        .map(|rule| ReportingDescriptor {
            id: rule.id,
            short_description: Message {
                text: rule.title.to_owned(),
            },
            full_description: Message {
                text: rule.help.to_owned(),
            },
            default_configuration: Configuration { level: "error" },
        })
        .collect();
    let results = report
        .findings
        .iter()
        .map(|finding| SarifResult {
            rule_id: finding.rule,
            rule_index: check::rules()
                .position(|r| r.id == finding.rule)
                .expect("every finding belongs to a rule"),
            level: "error",
            // The same line as the human report, readable without the location beside it.
            message: Message {
                text: format!("{}: {}", finding.location(), finding.message),
            },
            locations: vec![Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: finding.file.clone(),
                        uri_base_id: Some(PROJECT_ROOT),
                    },
                    region: finding.line.map(|start_line| Region { start_line }),
                },
            }],
        })
        .collect();
    let root_uri = format!(
        "file://{}/",
        percent_encode(report.path.to_string_lossy().trim_end_matches('/'))
    );
    let log = Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "medforge",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            original_uri_base_ids: [(
                PROJECT_ROOT,
                ArtifactLocation {
                    uri: root_uri,
                    uri_base_id: None,
                },
            )]
            .into_iter()
            .collect(),
            results,
        }],
    };
    serde_json::to_value(log).expect("a SARIF log serializes")
}

/// A path as URI text: unreserved characters and `/` as they are, the rest %-encoded.
fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            percent_encode("/tmp/my clinic/ä"),
            "/tmp/my%20clinic/%C3%A4"
        );
    }
}
