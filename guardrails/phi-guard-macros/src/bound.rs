//! Where-clauses for the generated impls, and the syntactic check for `Phi` in a type.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{GenericArgument, Generics, PathArguments, Type, parse_quote, parse_quote_spanned};

/// `generics` with `T: bound` added for every type parameter, as std's derives do.
pub fn with_param_bound(generics: &Generics, bound: &TokenStream) -> Generics {
    let mut generics = generics.clone();
    let params: Vec<_> = generics
        .type_params()
        .map(|param| param.ident.clone())
        .collect();
    let where_clause = generics.make_where_clause();
    for param in params {
        where_clause.predicates.push(parse_quote!(#param: #bound));
    }
    generics
}

/// `generics` with `FieldType: bound` added for every field type. Each predicate, bound
/// included, takes the field type's span, so an unmet bound points at the field that holds PHI.
pub fn with_field_bound<'a>(
    generics: &Generics,
    types: impl IntoIterator<Item = &'a Type>,
    bound: &TokenStream,
) -> Generics {
    let mut generics = generics.clone();
    let where_clause = generics.make_where_clause();
    for ty in types {
        let bound = respan(bound.clone(), ty.span());
        where_clause
            .predicates
            .push(parse_quote_spanned!(ty.span()=> #ty: #bound));
    }
    generics
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// Whether `ty` names `Phi` anywhere (`Phi<String>`, `Option<Vec<phi_guard::Phi<u8>>>`).
/// Syntactic: a type alias hides it, which is why an unredacted field still needs `Debug`,
/// and `Phi`'s `Debug` never compiles.
pub fn mentions_phi(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => {
            path.qself
                .as_ref()
                .is_some_and(|qself| mentions_phi(&qself.ty))
                || path.path.segments.iter().any(|segment| {
                    segment.ident == "Phi"
                        || match &segment.arguments {
                            PathArguments::AngleBracketed(args) => {
                                args.args.iter().any(|arg| match arg {
                                    GenericArgument::Type(ty) => mentions_phi(ty),
                                    GenericArgument::AssocType(assoc) => mentions_phi(&assoc.ty),
                                    _ => false,
                                })
                            }
                            PathArguments::Parenthesized(args) => {
                                args.inputs.iter().any(|arg| mentions_phi(&arg.ty))
                            }
                            PathArguments::None => false,
                        }
                })
        }
        Type::Array(array) => mentions_phi(&array.elem),
        Type::Group(group) => mentions_phi(&group.elem),
        Type::Paren(paren) => mentions_phi(&paren.elem),
        Type::Ptr(ptr) => mentions_phi(&ptr.elem),
        Type::Reference(reference) => mentions_phi(&reference.elem),
        Type::Slice(slice) => mentions_phi(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().any(mentions_phi),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::mentions_phi;
    use syn::{Type, parse_quote};

    #[test]
    fn finds_phi_nested_in_a_type() {
        let with: [Type; 6] = [
            parse_quote!(Phi<String>),
            parse_quote!(phi_guard::Phi<u8>),
            parse_quote!(Option<Vec<Phi<String>>>),
            parse_quote!(&'a [Phi<u8>]),
            parse_quote!((u32, Phi<u8>)),
            parse_quote!(<Phi<u8> as Trait>::Output),
        ];
        for ty in &with {
            assert!(mentions_phi(ty), "{}", quote::quote!(#ty));
        }
        let without: [Type; 3] = [
            parse_quote!(String),
            parse_quote!(Option<Vec<u8>>),
            parse_quote!(PhiLike<u8>),
        ];
        for ty in &without {
            assert!(!mentions_phi(ty), "{}", quote::quote!(#ty));
        }
    }
}
