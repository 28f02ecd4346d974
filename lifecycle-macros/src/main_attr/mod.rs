//! `#[lifecycle::main]`: shutdown handling around `fn main`, and the teardown when it ends.
//!
//! Phases: `parse` (arguments, the function, its checks), `expand`; the entry point below
//! follows `common::entry`.
//!
//! Imports `common` (`entry`, `errors`) and its own `parse` and `expand`; `parse` must not import
//! `expand`, and none of them imports another macro's modules.

mod expand;
mod parse;

use crate::common::entry;
use crate::common::errors::Errors;
use parse::{Args, Main};
use proc_macro2::TokenStream;

/// The entry point, by the contract of `common::entry`: an item that does not parse, or
/// arguments that do not, leave the item as it was written next to the error (so a bad
/// argument is one error, not also "`main` function not found"); a `main` the attribute
/// cannot wrap gets the fallback below.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, main, errors) = match entry::parse_attr::<_, Main>(args, item, Args::parse) {
        Ok(parsed) => parsed,
        Err(kept) => return kept,
    };
    entry::with_errors(errors, expand(&args, main))
}

/// Checks `main` and wraps it. With invalid input, the error comes with a fallback: the
/// function under another name (so its body still reports its own errors, and the compiler
/// does not repeat ours about `main`) and a `main` with the signature a valid one gets.
fn expand(args: &Args, main: Main) -> TokenStream {
    let mut errors = Errors::new();
    parse::validate(&main, &mut errors);
    if errors.is_empty() {
        return expand::expand(args, main);
    }
    let mut item = main.item;
    let name = item.sig.ident.clone();
    let vis = item.vis.clone();
    item.sig.ident = quote::format_ident!("__lifecycle_invalid_{}", name);
    let fallback = quote::quote! {
        #[allow(dead_code)]
        #item
        #vis fn #name() -> ::std::process::ExitCode {
            ::std::process::ExitCode::FAILURE
        }
    };
    entry::with_errors(errors, fallback)
}
