//! What `#[lifecycle::test]` can wrap: a function without parameters, generics, `const`,
//! `unsafe` or ABI; a sync fn without a test attribute of its own (the attribute adds
//! `#[test]`); an `async fn` only with a runtime's test attribute below ours.
//!
//! Imports `common` (`errors`) and its own `parse`; must not import `expand` or another macro's
//! modules.

use super::parse::{is_test_attr, TestFn};
use crate::common::errors::Errors;
use syn::spanned::Spanned;

pub(crate) fn validate(test: &TestFn, errors: &mut Errors) {
    let sig = &test.item.sig;
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        errors.spanned(&sig.inputs, "a test takes no parameters");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "a test cannot be generic",
        ));
    }
    if let Some(token) = &sig.constness {
        errors.at(token.span, "a test cannot be `const`");
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.at(token.span, "a test cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "a test cannot have an ABI");
    }
    let runtime = test.item.attrs.iter().find(|attr| is_test_attr(attr));
    match (&sig.asyncness, runtime) {
        (Some(token), None) => errors.at(
            token.span,
            "an `async fn` test needs a runtime: put its test attribute below \
             `#[lifecycle::test]`, e.g. `#[tokio::test]`",
        ),
        (None, Some(attr)) => errors.spanned(
            attr,
            "`#[lifecycle::test]` adds `#[test]` itself: remove this attribute (for an \
             `async fn`, put `#[lifecycle::test]` above the runtime's, e.g. \
             `#[lifecycle::test] #[tokio::test]`)",
        ),
        _ => {}
    }
}
