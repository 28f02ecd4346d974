//! `mk_system! { pub struct App(params...) { part: Type = expr, ... } }`: a struct of named
//! resources that start in declaration order and close in reverse.
//!
//! Phases: `parse` (lenient, with recovery per part), `valid`, `expand`; shared parts in
//! `common`.
//!
//! Imports `common` (`block`, `entry`) and its own `parse`, `valid` and `expand`; `parse` must not
//! import `valid` or `expand`, and none of them imports another macro's modules.

mod expand;
mod parse;
mod valid;

pub(crate) use parse::Input;

use crate::common::block::BlockInput;
use proc_macro2::TokenStream;

/// Validates `input` and generates the system. With invalid input, the errors come with a
/// fallback expansion: the structs with the parts that are fine, and a `start` that runs no
/// initializer, so one mistake gives one error.
pub(crate) fn expand(input: BlockInput<Input>) -> syn::Result<TokenStream> {
    let (system, errors) = valid::validate(input);
    let tokens = expand::expand(&system, !errors.is_empty());
    Ok(crate::common::entry::with_errors(errors, tokens))
}
