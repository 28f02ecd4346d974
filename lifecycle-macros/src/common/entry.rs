//! The fallback contract every entry point follows (as tokio-macros' `entry.rs` does):
//!
//! * input that does not parse: the input unchanged, plus the error;
//! * input that parses but is invalid: the macro's fallback expansion (which declares what
//!   the user declared, without the faulty parts), plus every error;
//! * never an expansion that deletes the user's item, which would add "cannot find" errors
//!   to the one that matters.
//!
//! Imports only `errors`.

use super::errors::Errors;
use proc_macro2::TokenStream;

/// The errors, then `item` as it was written.
pub(crate) fn keep_item(errors: Errors, item: &TokenStream) -> TokenStream {
    let mut expanded = errors.into_tokens();
    expanded.extend(item.clone());
    expanded
}

/// The errors, then the fallback expansion `fallback`.
pub(crate) fn with_errors(errors: Errors, fallback: TokenStream) -> TokenStream {
    let mut expanded = errors.into_tokens();
    expanded.extend(fallback);
    expanded
}
