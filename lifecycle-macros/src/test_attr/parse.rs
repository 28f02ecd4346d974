//! The arguments (`crate = path`) and the function of `#[lifecycle::test]`.

use crate::common::errors::Errors;
use crate::common::krate::{parse_args, CratePath};
use syn::parse::{Parse, ParseStream, Parser};
use syn::ItemFn;

pub(crate) struct Args {
    pub(crate) krate: CratePath,
}

impl Args {
    /// Parses the arguments; mistakes that leave them usable (`crate = "lc"`) go to `errors`.
    pub(crate) fn parse(args: proc_macro2::TokenStream, errors: &mut Errors) -> syn::Result<Self> {
        let krate = (|input: ParseStream<'_>| parse_args(input, errors)).parse2(args)?;
        Ok(Self { krate })
    }
}

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
