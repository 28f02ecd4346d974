//! The arguments (`crate = path`) and the function of `#[lifecycle::test]`.

use syn::parse::{Parse, ParseStream};
use syn::ItemFn;

pub(crate) use crate::common::krate::CrateArgs as Args;

pub(crate) struct TestFn {
    pub(crate) item: ItemFn,
}

impl Parse for TestFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let item: ItemFn = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "`#[lifecycle::test]` goes on a test function: `fn name() { ... }` (or `async \
                 fn` under a runtime's test attribute, e.g. `#[tokio::test]`)",
            )
        })?;
        Ok(Self { item })
    }
}

/// True for a test attribute: `#[test]`, or a runtime's (`#[tokio::test]`, which expands
/// to `#[::core::prelude::v1::test]` on a sync fn).
pub(crate) fn is_test_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}
