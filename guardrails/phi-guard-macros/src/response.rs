//! `#[derive(PhiResponse)]`: a struct that may be written in an API response body, and nowhere
//! else.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericParam, Lifetime, LifetimeParam};

use crate::attr::{self, FieldAttrs};
use crate::bound;

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    attr::reject_outside_fields(&input.attrs)?;
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => &fields.named,
            _ => {
                return Err(syn::Error::new_spanned(
                    &data.fields,
                    "PhiResponse needs named fields: they become the keys of the JSON object",
                ));
            }
        },
        Data::Enum(data) => {
            return Err(syn::Error::new_spanned(
                data.enum_token,
                "PhiResponse can only be derived for a struct with named fields; \
                 write an enum with its `Serialize` impl through a `#[phi(serde)]` field",
            ));
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "PhiResponse can only be derived for a struct with named fields",
            ));
        }
    };

    let mut writes = Vec::new();
    for field in fields {
        let attrs = FieldAttrs::parse(field)?;
        let ident = field.ident.as_ref().expect("named fields have names");
        let key = match &attrs.rename {
            Some(rename) => rename.value(),
            None => syn::ext::IdentExt::unraw(ident).to_string(),
        };
        // Only the function path takes the field's span, so an unmet bound points at the
        // field; the locals keep the call site's hygiene.
        let span = field.ty.span();
        writes.push(if attrs.serde {
            let write = quote_spanned!(span=> ::phi_guard::__private::serde_field);
            quote!(#write(&mut state, #key, &self.#ident)?;)
        } else {
            let write = quote_spanned!(span=> ::phi_guard::__private::field);
            quote!(#write(&mut state, #key, &self.#ident, token)?;)
        });
    }

    let ident = &input.ident;
    let name = ident.to_string();
    let len = fields.len();
    let serde = quote!(::phi_guard::__private::serde);
    let generics = bound::with_param_bound(&input.generics, &quote!(::phi_guard::ResponseBody));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    // The `Serialize` impl below needs `ResponseOnly<'__phi, Self>: PhiMustNotBeSerialized`,
    // which never holds: serializing the struct outside `PhiJson` fails with a PHI message,
    // and deriving `Serialize` as well is a conflicting-impl error.
    let lifetime = Lifetime::new("'__phi", Span::call_site());
    let mut blocked = input.generics.clone();
    blocked.params.insert(
        0,
        GenericParam::Lifetime(LifetimeParam::new(lifetime.clone())),
    );
    blocked
        .make_where_clause()
        .predicates
        .push(syn::parse_quote!(
            ::phi_guard::__private::ResponseOnly<#lifetime, #ident #ty_generics>:
                ::phi_guard::PhiMustNotBeSerialized
        ));
    let (blocked_impl_generics, _, blocked_where_clause) = blocked.split_for_impl();

    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::phi_guard::ResponseBody for #ident #ty_generics #where_clause {
            fn serialize_body<__S: #serde::Serializer>(
                &self,
                serializer: __S,
                token: ::phi_guard::ResponseToken,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                let mut state = #serde::Serializer::serialize_struct(serializer, #name, #len)?;
                #(#writes)*
                #serde::ser::SerializeStruct::end(state)
            }
        }

        #[automatically_derived]
        impl #blocked_impl_generics #serde::Serialize for #ident #ty_generics #blocked_where_clause {
            fn serialize<__S: #serde::Serializer>(
                &self,
                _serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                ::core::result::Result::Err(<__S::Error as #serde::ser::Error>::custom(
                    "PHI must not be serialized outside an API response body",
                ))
            }
        }
    })
}
