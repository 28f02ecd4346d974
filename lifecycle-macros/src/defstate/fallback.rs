//! What a macro expands to next to its errors, so that one mistake gives one error.
//!
//! A state with a bad option is still declared as `static NAME: State<T>` (without the
//! options), so every later use of `NAME` type-checks instead of adding "cannot find value"
//! errors to the one that matters. Something that is not a static at all is re-emitted
//! unchanged. A local state whose start expression parsed keeps it, so its type is known; one
//! that did not expands to the error alone, which the compiler types as an error and so
//! reports nothing more about.
//!
//! Imports `common` (`errors`), `ast` and `expand` (whose generation it runs on the state without
//! its faulty parts); must not import another macro's modules.

use crate::common::errors::Errors;
use crate::defstate::ast::{Init, Keyword, LocalState, Options, StaticState};
use crate::defstate::expand;
use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{Generics, Item, Type};

/// The error for `#[defstate]` on something that is not a `static`, on its keyword.
pub(crate) fn not_a_static(item: &Item) -> syn::Error {
    const WRITE: &str = "write `static NAME: Type = start_expression;`";
    match item {
        Item::Fn(function) => {
            let message = match &function.sig.output {
                syn::ReturnType::Type(_, ty) => {
                    let (ty, question) = match ok_type(ty) {
                        Some(ok) => (ok, "?"),
                        None => (&**ty, ""),
                    };
                    format!(
                        "`#[defstate]` goes on a `static`, not on a function; for a state of \
                         what `{name}` returns, write `static {upper}: {ty} = {name}(){question};`",
                        name = function.sig.ident,
                        upper = function.sig.ident.to_string().to_uppercase(),
                        ty = tidy(ty.to_token_stream()),
                    )
                }
                syn::ReturnType::Default => {
                    format!("`#[defstate]` goes on a `static`, not on a function: {WRITE}")
                }
            };
            syn::Error::new_spanned(function.sig.fn_token, message)
        }
        Item::Struct(item) => on_a_type(item.struct_token, "struct", &item.ident),
        Item::Enum(item) => on_a_type(item.enum_token, "enum", &item.ident),
        Item::Union(item) => on_a_type(item.union_token, "union", &item.ident),
        Item::Type(item) => on_a_type(item.type_token, "type alias", &item.ident),
        Item::Const(item) => syn::Error::new_spanned(
            item.const_token,
            format!("`#[defstate]` goes on a `static`, not on a `const`: {WRITE}"),
        ),
        other => syn::Error::new_spanned(
            other,
            format!("`#[defstate]` goes on a `static` item: {WRITE}"),
        ),
    }
}

fn on_a_type(keyword: impl ToTokens, kind: &str, ident: &syn::Ident) -> syn::Error {
    syn::Error::new_spanned(
        keyword,
        format!(
            "`#[defstate]` goes on a `static` holding a value, not on a {kind}: write \
             `static NAME: {ident} = ...;`"
        ),
    )
}

/// `static NAME: State<T>` without any option, or nothing if `T` is unknown.
pub(crate) fn static_state(state: &StaticState) -> TokenStream {
    let Some(ty) = &state.ty else {
        return TokenStream::new();
    };
    if matches!(ty, Type::Infer(_)) || mentions_params(ty, &state.generics) {
        return TokenStream::new();
    }
    let init = match &state.init {
        Some(Init::Expr(expr)) if state.generics.params.is_empty() => Init::Expr(expr.clone()),
        // An async state stays async, so `.get().await` on it type-checks.
        Some(Init::Async(block)) if state.generics.params.is_empty() => Init::Async(block.clone()),
        _ => Init::Unusable,
    };
    let plain = StaticState {
        attrs: state
            .attrs
            .iter()
            .filter(|attr| !attr.path().segments.iter().any(|s| s.ident == "defstate"))
            .cloned()
            .collect(),
        vis: state.vis.clone(),
        keyword: Keyword::Static(syn::Token![static](state.ident.span())),
        mutability: None,
        ident: state.ident.clone(),
        generics: Generics::default(),
        ty: Some(ty.clone()),
        init: Some(init),
        options: Options {
            krate: state.options.krate.clone(),
            ..Options::default()
        },
    };
    expand::static_state(&plain).unwrap_or_default()
}

/// The errors as an expression: the start expression's state if it parsed, else an error
/// expression, which the compiler reports nothing more about.
pub(crate) fn local_state(state: Option<&LocalState>, errors: Errors) -> TokenStream {
    let errors: Vec<TokenStream> = errors
        .into_error()
        .into_iter()
        .flatten()
        .map(|error| error.into_compile_error())
        .collect();
    let plain = state.and_then(|state| match &state.start {
        Init::Expr(_) | Init::Async(_) => {
            let plain = LocalState {
                start: state.start.clone(),
                options: Options {
                    krate: state.options.krate.clone(),
                    ..Options::default()
                },
                call_site: state.call_site,
            };
            expand::local_state(&plain).ok()
        }
        Init::Unusable => None,
    });
    match (plain, errors.split_last()) {
        (Some(plain), _) => quote!({ #(#errors;)* #plain }),
        (None, Some((last, rest))) => quote!({ #(#rest;)* #last }),
        (None, None) => quote!(::core::compile_error!("invalid `state!`")),
    }
}

/// True if `ty` names one of `generics`' parameters.
fn mentions_params(ty: &Type, generics: &Generics) -> bool {
    let names: Vec<String> = generics
        .params
        .iter()
        .map(|param| match param {
            syn::GenericParam::Type(param) => param.ident.to_string(),
            syn::GenericParam::Const(param) => param.ident.to_string(),
            syn::GenericParam::Lifetime(param) => param.lifetime.ident.to_string(),
        })
        .collect();
    fn walk(tokens: TokenStream, names: &[String]) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => names.contains(&ident.to_string()),
            TokenTree::Group(group) => walk(group.stream(), names),
            _ => false,
        })
    }
    !names.is_empty() && walk(ty.to_token_stream(), &names)
}

/// `T` of a `Result<T, E>` (or `io::Result<T>`) return type.
fn ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(ok) => Some(ok),
        _ => None,
    }
}

/// Source-like text of tokens for a message (`Result<Db, Error>`, not `Result < Db , Error >`).
fn tidy(tokens: TokenStream) -> String {
    tokens
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" :: ", "::")
}
