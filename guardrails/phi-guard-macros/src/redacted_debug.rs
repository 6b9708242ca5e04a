//! `#[derive(RedactedDebug)]`: `Debug` that never prints PHI.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::attr::{self, FieldAttrs};
use crate::bound;

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    attr::reject_outside_fields(&input.attrs)?;
    let arms = match &input.data {
        Data::Struct(data) => vec![arm(quote!(Self), &input.ident, &data.fields)?],
        Data::Enum(data) => data
            .variants
            .iter()
            .map(|variant| {
                attr::reject_outside_fields(&variant.attrs)?;
                let ident = &variant.ident;
                arm(quote!(Self::#ident), ident, &variant.fields)
            })
            .collect::<syn::Result<_>>()?,
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "RedactedDebug cannot be derived for a union: which field is live is unknown",
            ));
        }
    };

    let ident = &input.ident;
    let generics = bound::with_param_bound(&input.generics, &quote!(::core::fmt::Debug));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    #(#arms)*
                }
            }
        }
    })
}

/// One match arm: bind the fields of `path` and print them, redacting the PHI ones.
fn arm(path: TokenStream, name: &Ident, fields: &Fields) -> syn::Result<TokenStream> {
    let name = name.to_string();
    let mut patterns = Vec::new();
    let mut entries = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let attrs = FieldAttrs::parse(field)?;
        let binding = format_ident!("__field{}", index);
        let redact = attrs.redact || bound::mentions_phi(&field.ty);
        // A redacted field is never bound, so its value is not even borrowed here.
        let (pattern, value) = if redact {
            (quote!(_), quote!(&::phi_guard::Redacted))
        } else {
            // The helper's path takes the field's span: an alias hiding `Phi` fails here, at
            // the field, with the PHI message.
            let debug = quote_spanned!(field.ty.span()=> ::phi_guard::__private::debug_field);
            (quote!(#binding), quote!(#debug(#binding)))
        };
        match &field.ident {
            Some(ident) => {
                let key = syn::ext::IdentExt::unraw(ident).to_string();
                patterns.push(quote!(#ident: #pattern));
                entries.push(quote!(.field(#key, #value)));
            }
            None => {
                patterns.push(pattern);
                entries.push(quote!(.field(#value)));
            }
        }
    }
    Ok(match fields {
        Fields::Named(_) => quote! {
            #path { #(#patterns),* } => f.debug_struct(#name) #(#entries)* .finish(),
        },
        Fields::Unnamed(_) => quote! {
            #path ( #(#patterns),* ) => f.debug_tuple(#name) #(#entries)* .finish(),
        },
        Fields::Unit => quote! {
            #path => f.write_str(#name),
        },
    })
}
