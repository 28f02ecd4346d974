//! The arguments (`crate = path`) and the function of `#[lifecycle::test]`.
//!
//! Imports only `common` (`entry`, `krate`); must not import `valid`, `expand` or another macro's
//! modules.

use crate::common::entry::{AttrFn, Expected};

pub(crate) use crate::common::krate::CrateArgs as Args;

/// The function the attribute goes on.
pub(crate) type TestFn = AttrFn<TestAttr>;

pub(crate) enum TestAttr {}

impl Expected for TestAttr {
    const EXPECTED: &'static str =
        "`#[lifecycle::test]` goes on a test function: `fn name() { ... }` (or `async \
                 fn` under a runtime's test attribute, e.g. `#[tokio::test]`)";
}

/// True for a test attribute: `#[test]`, or a runtime's (`#[tokio::test]`, which expands
/// to `#[::core::prelude::v1::test]` on a sync fn).
pub(crate) fn is_test_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}
