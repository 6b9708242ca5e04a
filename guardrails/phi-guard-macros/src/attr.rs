//! Parsing of the `#[phi(...)]` helper attribute shared by `RedactedDebug` and `PhiResponse`.

use syn::{Attribute, Field, LitStr};

/// What `#[phi(...)]` says about one field. Both derives accept every key, as serde's
/// derives share `#[serde(...)]`, so one field can carry `#[phi(redact, serde)]`.
#[derive(Default)]
pub struct FieldAttrs {
    /// `redact`: `RedactedDebug` prints `[PHI redacted]` whatever the type.
    pub redact: bool,
    /// `serde`: `PhiResponse` writes the field with its `Serialize` impl.
    pub serde: bool,
    /// `rename = "..."`: `PhiResponse` writes the field under this key.
    pub rename: Option<LitStr>,
}

impl FieldAttrs {
    pub fn parse(field: &Field) -> syn::Result<Self> {
        let mut attrs = FieldAttrs::default();
        for attr in field.attrs.iter().filter(|attr| is_phi(attr)) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("redact") {
                    attrs.redact = true;
                } else if meta.path.is_ident("serde") {
                    attrs.serde = true;
                } else if meta.path.is_ident("rename") {
                    attrs.rename = Some(meta.value()?.parse()?);
                } else {
                    return Err(meta.error(
                        "unknown `phi` attribute; expected `redact`, `serde` or `rename = \"...\"`",
                    ));
                }
                Ok(())
            })?;
        }
        Ok(attrs)
    }
}

/// `#[phi(...)]` only applies to fields; on the type or a variant it would be ignored
/// silently, which a security control must not do.
pub fn reject_outside_fields(attrs: &[Attribute]) -> syn::Result<()> {
    match attrs.iter().find(|attr| is_phi(attr)) {
        Some(attr) => Err(syn::Error::new_spanned(
            attr,
            "`#[phi(...)]` goes on fields, not on the type or its variants",
        )),
        None => Ok(()),
    }
}

fn is_phi(attr: &Attribute) -> bool {
    attr.path().is_ident("phi")
}
