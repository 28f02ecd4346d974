//! `#[lifecycle::test]`: a `#[test]` whose body runs in `lifecycle::isolate` (or, for an
//! `async fn` under a runtime's test attribute, in `lifecycle::isolate_async`).
//!
//! Phases: `parse` (arguments and the function), `valid` (what the attribute can wrap),
//! `expand`; the entry point below follows `common::entry`.
//!
//! Imports `common` (`entry`) and its own `parse`, `valid` and `expand`; `parse` must not import
//! `valid` or `expand`, and none of them imports another macro's modules.

mod expand;
mod parse;
mod valid;

use crate::common::entry;
use parse::{Args, TestFn};
use proc_macro2::TokenStream;

/// The entry point, by the contract of `common::entry`: input that does not parse stays as
/// written next to the error; a function the attribute cannot wrap is kept, unwrapped and
/// not a test, next to every error about it.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, test, mut errors) = match entry::parse_attr::<_, TestFn>(args, item, Args::parse) {
        Ok(parsed) => parsed,
        Err(kept) => return kept,
    };
    valid::validate(&test, &mut errors);
    if !errors.is_empty() {
        let item = test.item;
        return entry::with_errors(errors, quote::quote!(#[allow(dead_code)] #item));
    }
    entry::with_errors(errors, expand::expand(&args, test))
}
