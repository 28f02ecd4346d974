//! The arguments (`crate = path`) and the function of `#[lifecycle::main]`, and its checks.
//!
//! Imports only `common` (`entry`, `errors`, `krate`); must not import `expand` or another macro's
//! modules.

use crate::common::entry::{AttrFn, Expected};
use crate::common::errors::Errors;
use syn::spanned::Spanned;

pub(crate) use crate::common::krate::CrateArgs as Args;

/// The function the attribute goes on.
pub(crate) type Main = AttrFn<MainAttr>;

pub(crate) enum MainAttr {}

impl Expected for MainAttr {
    const EXPECTED: &'static str =
        "`#[lifecycle::main]` goes on `fn main() { ... }` (or `fn main() -> Result<(), \
                 E>`)";
}

/// A `main` the attribute can wrap: no parameters, generics, `const`, `unsafe` or ABI, and an
/// `async fn` only with a runtime attribute below ours.
pub(crate) fn validate(main: &Main, errors: &mut Errors) {
    let sig = &main.item.sig;
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new(
            sig.inputs.span(),
            "`main` takes no parameters",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "`main` cannot be generic",
        ));
    }
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(token.span, "`main` cannot be `const`"));
    }
    match &sig.safety {
        syn::Safety::Unsafe(token) => {
            errors.push(syn::Error::new(token.span, "`main` cannot be `unsafe`"));
        }
        syn::Safety::Safe(token) => {
            errors.push(syn::Error::new(token.span, "`main` cannot be `safe`"));
        }
        _ => {}
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(abi.span(), "`main` cannot have an ABI"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(
            variadic.span(),
            "`main` takes no parameters",
        ));
    }
    if let Some(token) = &sig.asyncness {
        if main.item.attrs.iter().all(is_outer_attr) {
            errors.push(syn::Error::new(
                token.span,
                "an `async fn main` needs a runtime: put its attribute below \
                     `#[lifecycle::main]`, e.g. `#[tokio::main]`",
            ));
        }
    }
}

/// Attributes that stay on the outer `main` (docs, `cfg`); the others go on the inner
/// function with the body, where they apply to it (`#[tokio::main]`, lints).
/// `#[tokio::main]` (or `#[tokio::main(...)]`): `main`'s body runs on a tokio runtime.
pub(crate) fn is_tokio_main(attr: &syn::Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments == ["tokio", "main"]
}

pub(crate) fn is_outer_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("cfg_attr")
}
