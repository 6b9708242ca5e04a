//! `compliance/vendors.toml`: the reviewed list of outside services that may receive PHI,
//! and the rules each must meet before the egress client sends it anything (HIPAA 164.308(b), GDPR Art. 28).
//!
//! The rules are those `medforge check` enforces on the same file, applied again at every
//! send, so a list that was never checked, or a vendor whose agreement is dated in the
//! future, still sends nothing:
//! - every agreement the regime requires is signed: a BAA for HIPAA (45 CFR 164.502(e),
//!   164.504(e)), a DPA for the GDPR (Art. 28) and the nDSG (Art. 9), both for `all`;
//! - the vendor's region is the `data_residency` region or a sub-region of it
//!   (`<residency>-<zone>`).
//!
//! A file that does not parse, a vendor without a name, a duplicate name or a malformed
//! `hosts` entry makes the whole list unusable ([`VendorsError`]): the client refuses to
//! start rather than guess. A vendor that breaks a rule stays listed and every send to
//! it is refused and audited ([`Vendor::permits`]).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use serde::Deserialize;

use super::Refusal;

/// The privacy regime this project was generated for (the `regime` answer).
pub use crate::policy::REGIME;

/// The reviewed list, embedded at build time: changing who receives PHI takes a reviewed
/// commit and a new build, never a file edited on a server.
pub const SHIPPED: &str = include_str!("../../compliance/vendors.toml");

/// The longest audit label: `audit_events.resource_type` holds at most 64 characters.
const AUDIT_LABEL_CHARS: usize = 64;

/// Why `compliance/vendors.toml` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VendorsError {
    #[error(
        "compliance/vendors.toml is not a valid vendor list ({0}); see the format described \
         at the top of the file"
    )]
    Parse(String),
    #[error(
        "vendor number {0} in compliance/vendors.toml has no `name`; name every vendor that \
         receives PHI"
    )]
    Nameless(usize),
    #[error(
        "vendor `{0}` is listed twice in compliance/vendors.toml; keep one [[vendor]] table \
         per vendor"
    )]
    Duplicate(String),
    #[error(
        "vendor `{vendor}` has the `hosts` entry `{entry}`, which is not a host name or \
         address with an optional port (e.g. \"api.vendor.example\" or \
         \"api.vendor.example:8443\"): no scheme, path or credentials"
    )]
    Host { vendor: String, entry: String },
}

/// An agreement a regime requires of every vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// HIPAA business associate agreement (45 CFR 164.502(e), 164.504(e)).
    Baa,
    /// Data processing agreement (GDPR Art. 28; nDSG Art. 9).
    Dpa,
}

impl Agreement {
    /// Its key in `compliance/vendors.toml`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Baa => "baa",
            Self::Dpa => "dpa",
        }
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baa => "HIPAA business associate agreement (45 CFR 164.502(e))",
            Self::Dpa => "data processing agreement (GDPR Art. 28, nDSG Art. 9)",
        })
    }
}

/// The agreements `regime` requires of every vendor; an unknown regime requires both.
pub fn required_agreements(regime: &str) -> &'static [Agreement] {
    match regime {
        "hipaa" => &[Agreement::Baa],
        "gdpr" | "ndsg" => &[Agreement::Dpa],
        _ => &[Agreement::Baa, Agreement::Dpa],
    }
}

/// A region is allowed when it is the residency region or a sub-region of it
/// (`eu-west` within `eu`).
pub fn region_allowed(region: &str, data_residency: &str) -> bool {
    region == data_residency
        || region
            .strip_prefix(data_residency)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// An agreement as the file states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signature {
    Missing,
    /// Present but not a date (`"pending"`, `true`, `2025-02-30`).
    NotADate,
    Signed(NaiveDate),
}

impl Signature {
    /// A TOML date (`2025-01-31`) or the same as a string, as `medforge check` accepts;
    /// a date that does not exist on the calendar is no signature.
    fn read(value: Option<&toml::Value>) -> Self {
        let date = match value {
            None => return Self::Missing,
            Some(toml::Value::Datetime(datetime)) => datetime.date.and_then(|date| {
                NaiveDate::from_ymd_opt(
                    i32::from(date.year),
                    u32::from(date.month),
                    u32::from(date.day),
                )
            }),
            Some(toml::Value::String(text)) if is_date_shaped(text) => {
                NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
            }
            Some(_) => None,
        };
        date.map_or(Self::NotADate, Self::Signed)
    }
}

/// `YYYY-MM-DD`, digits only: the string form `medforge check` accepts.
fn is_date_shaped(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Where a vendor may be reached: a host name or IP address, and a port (`None`: the
/// scheme's default, 443 for https).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub host: String,
    pub port: Option<u16>,
}

impl Host {
    /// Reads a `hosts` entry the way a URL's authority is read, so that the comparison
    /// with a request URL sees both normalized alike (lower case, IDNA, `[::1]`).
    fn parse(entry: &str) -> Option<Self> {
        let url = reqwest::Url::parse(&format!("https://{entry}")).ok()?;
        let bare = url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && !entry.contains(['/', '?', '#', '@']);
        let host = url.host_str()?.to_owned();
        bare.then_some(Self {
            host,
            port: url.port(),
        })
    }

    /// Whether `url` points at this host and port.
    pub fn matches(&self, url: &reqwest::Url) -> bool {
        let default_port = match url.scheme() {
            "http" => 80,
            _ => 443,
        };
        url.host_str() == Some(self.host.as_str())
            && url.port_or_known_default() == Some(self.port.unwrap_or(default_port))
    }
}

/// One listed vendor.
#[derive(Debug, Clone)]
pub struct Vendor {
    pub name: String,
    /// What PHI it receives, and why.
    pub purpose: Option<String>,
    pub hosts: Vec<Host>,
    /// Where it processes and stores the data.
    pub region: Option<String>,
    baa: Signature,
    dpa: Signature,
    audit_label: &'static str,
}

impl Vendor {
    /// Whether the rules let this vendor receive PHI under `regime` and `data_residency`
    /// on `today`: every required agreement signed, none dated after `today`, and an
    /// allowed region.
    pub fn permits(
        &self,
        regime: &str,
        data_residency: &str,
        today: NaiveDate,
    ) -> Result<(), Refusal> {
        for &agreement in required_agreements(regime) {
            let signature = match agreement {
                Agreement::Baa => self.baa,
                Agreement::Dpa => self.dpa,
            };
            match signature {
                Signature::Signed(date) if date <= today => {}
                Signature::Signed(date) => {
                    return Err(Refusal::AgreementNotYetSigned { agreement, date });
                }
                Signature::Missing | Signature::NotADate => {
                    return Err(Refusal::AgreementMissing {
                        agreement,
                        regime: regime.to_owned(),
                    });
                }
            }
        }
        match self.region.as_deref() {
            Some(region) if region_allowed(region, data_residency) => Ok(()),
            region => Err(Refusal::RegionNotAllowed {
                region: region.map(str::to_owned),
                data_residency: data_residency.to_owned(),
            }),
        }
    }

    /// Whether `url` points at one of the vendor's `hosts`.
    pub fn serves(&self, url: &reqwest::Url) -> bool {
        self.hosts.iter().any(|host| host.matches(url))
    }

    /// The name as the audit trail records it (`resource_type`).
    pub fn audit_label(&self) -> &'static str {
        self.audit_label
    }
}

/// The vendors of one `compliance/vendors.toml`.
#[derive(Debug, Clone, Default)]
pub struct Vendors {
    vendors: Vec<Vendor>,
}

impl Vendors {
    /// The list shipped in this build ([`SHIPPED`]).
    pub fn shipped() -> Result<Self, VendorsError> {
        Self::parse(SHIPPED)
    }

    /// Reads a vendor list in the format of `compliance/vendors.toml`.
    pub fn parse(text: &str) -> Result<Self, VendorsError> {
        let file: File = toml::from_str(text)
            .map_err(|error| VendorsError::Parse(error.message().to_owned()))?;
        let mut names = BTreeSet::new();
        let mut vendors = Vec::with_capacity(file.vendor.len());
        for (index, raw) in file.vendor.into_iter().enumerate() {
            let name = raw
                .name
                .filter(|name| !name.trim().is_empty())
                .ok_or(VendorsError::Nameless(index + 1))?;
            if !names.insert(name.clone()) {
                return Err(VendorsError::Duplicate(name));
            }
            let hosts = raw
                .hosts
                .iter()
                .map(|entry| {
                    Host::parse(entry).ok_or_else(|| VendorsError::Host {
                        vendor: name.clone(),
                        entry: entry.clone(),
                    })
                })
                .collect::<Result<_, _>>()?;
            vendors.push(Vendor {
                audit_label: audit_label(&name),
                baa: Signature::read(raw.baa.as_ref()),
                dpa: Signature::read(raw.dpa.as_ref()),
                name,
                purpose: raw.purpose,
                hosts,
                region: raw.region,
            });
        }
        Ok(Self { vendors })
    }

    /// The vendor called `name`, exactly.
    pub fn get(&self, name: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|vendor| vendor.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vendor> {
        self.vendors.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.vendors.is_empty()
    }
}

/// The file as written; the rules are applied by [`Vendor::permits`].
#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    vendor: Vec<RawVendor>,
}

#[derive(Debug, Deserialize)]
struct RawVendor {
    name: Option<String>,
    purpose: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
    region: Option<String>,
    baa: Option<toml::Value>,
    dpa: Option<toml::Value>,
}

/// `name` cut to what `audit_events.resource_type` holds, as a `&'static str` (audit
/// events are `Copy` and name resources by static strings). Each distinct label is
/// allocated once per process, and labels come only from vendor lists, so this is bounded.
fn audit_label(name: &str) -> &'static str {
    static LABELS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let label: String = name.chars().take(AUDIT_LABEL_CHARS).collect();
    let mut labels = LABELS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = labels.get(label.as_str()) {
        return known;
    }
    let label: &'static str = label.leak();
    labels.insert(label);
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn one(text: &str) -> Vendor {
        Vendors::parse(text).unwrap().iter().next().unwrap().clone()
    }

    const TODAY: &str = "2026-01-15";

    #[test]
    fn the_shipped_list_parses_and_lists_no_vendor() {
        assert!(Vendors::shipped().unwrap().is_empty());
    }

    #[test]
    fn each_regime_needs_its_agreement() {
        let dpa_only = one("[[vendor]]\nname = \"A\"\nregion = \"ch\"\ndpa = 2025-01-31\n");
        let today = day(TODAY);
        assert!(dpa_only.permits("gdpr", "ch", today).is_ok());
        assert!(dpa_only.permits("ndsg", "ch", today).is_ok());
        for regime in ["hipaa", "all"] {
            assert!(matches!(
                dpa_only.permits(regime, "ch", today),
                Err(Refusal::AgreementMissing {
                    agreement: Agreement::Baa,
                    ..
                })
            ));
        }
        let both = one(
            "[[vendor]]\nname = \"A\"\nregion = \"ch-zh\"\nbaa = \"2025-01-31\"\ndpa = 2025-01-31\n",
        );
        assert!(both.permits("all", "ch", today).is_ok());
        assert_eq!(required_agreements("something else").len(), 2);
    }

    #[test]
    fn an_unsigned_or_impossible_agreement_is_no_agreement() {
        let today = day(TODAY);
        for (baa, dpa) in [
            ("\"pending\"", "true"),
            ("\"2025-02-30\"", "2025-01-31"),
            ("2025-01-31", "\"31.01.2025\""),
            ("2025-01-31", "12:00:00"),
        ] {
            let vendor = one(&format!(
                "[[vendor]]\nname = \"A\"\nregion = \"ch\"\nbaa = {baa}\ndpa = {dpa}\n"
            ));
            assert!(
                matches!(
                    vendor.permits("all", "ch", today),
                    Err(Refusal::AgreementMissing { .. })
                ),
                "baa = {baa}, dpa = {dpa}"
            );
        }
        let with_time = one(
            "[[vendor]]\nname = \"A\"\nregion = \"ch\"\nbaa = 2025-01-31T10:00:00Z\ndpa = 2025-01-31\n",
        );
        assert!(with_time.permits("all", "ch", today).is_ok());
    }

    #[test]
    fn an_agreement_dated_in_the_future_is_not_yet_signed() {
        let vendor =
            one("[[vendor]]\nname = \"A\"\nregion = \"ch\"\nbaa = 2026-01-16\ndpa = 2026-01-15\n");
        assert!(matches!(
            vendor.permits("all", "ch", day(TODAY)),
            Err(Refusal::AgreementNotYetSigned {
                agreement: Agreement::Baa,
                ..
            })
        ));
        assert!(vendor.permits("all", "ch", day("2026-01-16")).is_ok());
    }

    #[test]
    fn regions_outside_the_residency_are_refused() {
        let today = day(TODAY);
        let signed = "baa = 2025-01-31\ndpa = 2025-01-31\n";
        for region in ["\"us\"", "\"chx\"", "\"ch_zh\""] {
            let vendor = one(&format!(
                "[[vendor]]\nname = \"A\"\nregion = {region}\n{signed}"
            ));
            assert!(matches!(
                vendor.permits("all", "ch", today),
                Err(Refusal::RegionNotAllowed { .. })
            ));
        }
        let no_region = one(&format!("[[vendor]]\nname = \"A\"\n{signed}"));
        assert!(matches!(
            no_region.permits("all", "ch", today),
            Err(Refusal::RegionNotAllowed { region: None, .. })
        ));
        assert!(region_allowed("eu-west", "eu"));
        assert!(!region_allowed("eu", "eu-west"));
        assert!(!region_allowed("chx", "ch"));
    }

    #[test]
    fn hosts_match_host_and_port_exactly() {
        let vendor = one(
            "[[vendor]]\nname = \"A\"\nhosts = [\"API.Vendor.example\", \"127.0.0.1:8443\", \"[::1]:9000\"]\n",
        );
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(vendor.serves(&url("https://api.vendor.example/v1/upload")));
        assert!(vendor.serves(&url("https://api.vendor.example:443/")));
        assert!(vendor.serves(&url("http://127.0.0.1:8443/in")));
        assert!(vendor.serves(&url("http://[::1]:9000/in")));
        assert!(!vendor.serves(&url("https://api.vendor.example:8443/")));
        assert!(!vendor.serves(&url("https://evil.api.vendor.example/")));
        assert!(!vendor.serves(&url("https://api.vendor.example.evil.example/")));
        assert!(!vendor.serves(&url("http://127.0.0.1:8444/in")));
        assert!(!vendor.serves(&url("http://localhost:8443/in")));
    }

    #[test]
    fn a_malformed_list_is_refused_whole() {
        assert!(matches!(
            Vendors::parse("[[vendor]\n"),
            Err(VendorsError::Parse(_))
        ));
        assert!(matches!(
            Vendors::parse("[[vendor]]\nregion = \"ch\"\n"),
            Err(VendorsError::Nameless(1))
        ));
        assert!(matches!(
            Vendors::parse("[[vendor]]\nname = \"A\"\n[[vendor]]\nname = \"A\"\n"),
            Err(VendorsError::Duplicate(_))
        ));
        for entry in [
            "https://api.vendor.example",
            "api.vendor.example/upload",
            "user@api.vendor.example",
            "api.vendor.example?x=1",
            "",
        ] {
            assert!(
                matches!(
                    Vendors::parse(&format!(
                        "[[vendor]]\nname = \"A\"\nhosts = [\"{entry}\"]\n"
                    )),
                    Err(VendorsError::Host { .. })
                ),
                "{entry}"
            );
        }
    }

    #[test]
    fn audit_labels_fit_the_audit_column_and_are_shared() {
        let long = "V".repeat(100);
        let vendor = one(&format!("[[vendor]]\nname = \"{long}\"\n"));
        assert_eq!(vendor.audit_label().chars().count(), AUDIT_LABEL_CHARS);
        assert!(std::ptr::eq(vendor.audit_label(), audit_label(&long)));
    }
}
