//! `#[derive(UrlSafe)]`: only for types whose every field is `UrlSafe`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::bound;

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let types: Vec<_> = match &input.data {
        Data::Struct(data) => data.fields.iter().map(|field| &field.ty).collect(),
        Data::Enum(data) => data
            .variants
            .iter()
            .flat_map(|variant| variant.fields.iter().map(|field| &field.ty))
            .collect(),
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "UrlSafe cannot be derived for a union: its fields cannot be checked for PHI",
            ));
        }
    };

    let ident = &input.ident;
    // `Phi<String>: UrlSafe` never holds, so a struct holding PHI fails right here, at the
    // field, with `UrlSafe`'s message.
    let generics = bound::with_field_bound(&input.generics, types, &quote!(::phi_guard::UrlSafe));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::phi_guard::UrlSafe for #ident #ty_generics #where_clause {}
    })
}
