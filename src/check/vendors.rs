//! `compliance/vendors.toml`: every outside service that may receive PHI needs a signed
//! agreement for the project's regime (a BAA for HIPAA, a DPA for the GDPR and the nDSG)
//! and a region allowed by `data_residency`. The file documents its format itself.

use serde::Deserialize;

use super::{Context, Family, Finding, Rule};
use crate::error::Result;
use crate::fs::read_optional_text;
use crate::policy::Regime;

/// The vendors that may receive PHI, with their agreements and regions.
pub const VENDORS_FILE: &str = "compliance/vendors.toml";

pub const VENDOR_AGREEMENTS: Rule = Rule {
    id: "vendor-agreements",
    title: "Every vendor in compliance/vendors.toml has a signed BAA/DPA",
    help: "HIPAA 164.308(b), GDPR Art. 28, nDSG Art. 9: PHI goes only to vendors with a signed agreement for the regime: a \
           BAA for HIPAA, a DPA for the GDPR and the nDSG.",
};

pub const VENDOR_REGION: Rule = Rule {
    id: "vendor-region",
    title: "Every vendor processes data in a region allowed by data_residency",
    help: "A vendor's region must be the data_residency region or a sub-region of it.",
};

pub const FAMILY: Family = Family {
    rules: &[VENDOR_AGREEMENTS, VENDOR_REGION],
    check,
};

fn check(ctx: &Context) -> Result<Vec<Finding>> {
    let text = read_optional_text(&ctx.project.join(VENDORS_FILE))?;
    Ok(findings(
        text.as_deref(),
        ctx.policy.regime,
        &ctx.policy.data_residency,
    ))
}

#[derive(Debug, Deserialize)]
struct VendorsFile {
    #[serde(default)]
    vendor: Vec<toml::Spanned<Vendor>>,
}

#[derive(Debug, Deserialize)]
struct Vendor {
    name: Option<String>,
    region: Option<String>,
    baa: Option<toml::Value>,
    dpa: Option<toml::Value>,
}

/// An agreement a regime requires of every vendor.
struct Agreement {
    key: &'static str,
    what: &'static str,
}

const BAA: Agreement = Agreement {
    key: "baa",
    what: "HIPAA business associate agreement (45 CFR 164.502(e))",
};
const DPA: Agreement = Agreement {
    key: "dpa",
    what: "data processing agreement (GDPR Art. 28, nDSG Art. 9)",
};

fn required(regime: Regime) -> Vec<Agreement> {
    match regime {
        Regime::Hipaa => vec![BAA],
        Regime::Gdpr | Regime::Ndsg => vec![DPA],
        Regime::All => vec![BAA, DPA],
    }
}

/// Checks the text of `compliance/vendors.toml` (`None`: the file is missing).
fn findings(text: Option<&str>, regime: Regime, data_residency: &str) -> Vec<Finding> {
    let Some(text) = text else {
        return vec![Finding::in_file(
            VENDOR_AGREEMENTS.id,
            VENDORS_FILE,
            format!(
                "is missing: it lists the only vendors that may receive PHI; restore it from \
                 .medforge/base/{VENDORS_FILE}"
            ),
        )];
    };
    let file: VendorsFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            return vec![Finding::at(
                VENDOR_AGREEMENTS.id,
                VENDORS_FILE,
                line,
                format!(
                    "is not a valid vendor list ({}); see the format described at the top of \
                     the file",
                    e.message()
                ),
            )];
        }
    };
    let mut findings = Vec::new();
    for spanned in &file.vendor {
        let line = line_of(text, spanned.span().start);
        let vendor = spanned.get_ref();
        let Some(name) = vendor.name.as_deref().filter(|n| !n.trim().is_empty()) else {
            findings.push(Finding::at(
                VENDOR_AGREEMENTS.id,
                VENDORS_FILE,
                line,
                "a [[vendor]] has no `name`; name every vendor that receives PHI".to_owned(),
            ));
            continue;
        };
        for agreement in required(regime) {
            let value = match agreement.key {
                "baa" => vendor.baa.as_ref(),
                _ => vendor.dpa.as_ref(),
            };
            if !value.is_some_and(is_signing_date) {
                findings.push(Finding::at(
                    VENDOR_AGREEMENTS.id,
                    VENDORS_FILE,
                    line,
                    format!(
                        "vendor `{name}` has no signed {} (regime `{}`): add `{} = \
                         YYYY-MM-DD` once it is signed, and until then remove the vendor so no \
                         PHI goes there",
                        agreement.what,
                        regime.name(),
                        agreement.key
                    ),
                ));
            }
        }
        match vendor.region.as_deref() {
            None => findings.push(Finding::at(
                VENDOR_REGION.id,
                VENDORS_FILE,
                line,
                format!(
                    "vendor `{name}` has no `region`: add where it processes and stores the \
                     data; data_residency is `{data_residency}`"
                ),
            )),
            Some(region) if !region_allowed(region, data_residency) => {
                findings.push(Finding::at(
                    VENDOR_REGION.id,
                    VENDORS_FILE,
                    line,
                    format!(
                        "vendor `{name}` processes data in region `{region}`, outside \
                         data_residency `{data_residency}`: choose a vendor region in \
                         `{data_residency}`, or remove the vendor"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    findings
}

/// A region is allowed when it is the residency region or a sub-region of it
/// (`eu-west` within `eu`).
pub fn region_allowed(region: &str, data_residency: &str) -> bool {
    region == data_residency
        || region
            .strip_prefix(data_residency)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// A TOML date (`2025-01-31`) or the same as a string.
fn is_signing_date(value: &toml::Value) -> bool {
    match value {
        toml::Value::Datetime(datetime) => datetime.date.is_some(),
        toml::Value::String(text) => {
            let parts: Vec<&str> = text.split('-').collect();
            parts.len() == 3
                && [4, 2, 2].iter().zip(&parts).all(|(len, part)| {
                    part.len() == *len && part.bytes().all(|b| b.is_ascii_digit())
                })
        }
        _ => false,
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regime(name: &str) -> Regime {
        <Regime as crate::policy::Choice>::from_name(name).unwrap()
    }

    fn check(text: Option<&str>, regime_name: &str, data_residency: &str) -> Vec<Finding> {
        findings(text, regime(regime_name), data_residency)
    }

    fn rules(text: &str, regime: &str) -> Vec<(&'static str, usize)> {
        check(Some(text), regime, "ch")
            .into_iter()
            .map(|f| (f.rule, f.line.unwrap_or(0)))
            .collect()
    }

    #[test]
    fn no_vendors_is_clean() {
        assert!(rules("# nothing\n", "all").is_empty());
    }

    #[test]
    fn each_regime_needs_its_agreement() {
        let dpa_only = "\n[[vendor]]\nname = \"A\"\nregion = \"ch\"\ndpa = 2025-01-31\n";
        assert!(rules(dpa_only, "gdpr").is_empty());
        assert!(rules(dpa_only, "ndsg").is_empty());
        assert_eq!(rules(dpa_only, "hipaa"), [(VENDOR_AGREEMENTS.id, 2)]);
        assert_eq!(rules(dpa_only, "all"), [(VENDOR_AGREEMENTS.id, 2)]);
        let both = "[[vendor]]\nname = \"A\"\nregion = \"ch-zh\"\nbaa = \"2025-01-31\"\ndpa = 2025-01-31\n";
        assert!(rules(both, "all").is_empty());
        let unsigned = "[[vendor]]\nname = \"A\"\nregion = \"ch\"\nbaa = \"pending\"\ndpa = true\n";
        assert_eq!(rules(unsigned, "all").len(), 2);
    }

    #[test]
    fn regions_outside_the_residency_are_refused() {
        let text = "[[vendor]]\nname = \"A\"\nregion = \"us\"\nbaa = 2025-01-31\ndpa = 2025-01-31\n\n\
                    [[vendor]]\nname = \"B\"\nbaa = 2025-01-31\ndpa = 2025-01-31\n";
        assert_eq!(
            rules(text, "all"),
            [(VENDOR_REGION.id, 1), (VENDOR_REGION.id, 7)]
        );
        assert!(region_allowed("eu-west", "eu"));
        assert!(!region_allowed("eu", "eu-west"));
        assert!(!region_allowed("chx", "ch"));
    }

    #[test]
    fn a_missing_or_broken_file_is_reported() {
        assert_eq!(check(None, "all", "ch")[0].rule, VENDOR_AGREEMENTS.id);
        assert_eq!(rules("\n[[vendor]\n", "all"), [(VENDOR_AGREEMENTS.id, 2)]);
        assert_eq!(
            rules("[[vendor]]\nregion = \"ch\"\n", "gdpr"),
            [(VENDOR_AGREEMENTS.id, 1)]
        );
    }
}
