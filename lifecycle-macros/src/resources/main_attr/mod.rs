//! `#[lifecycle::main]`: shutdown handling around `fn main`, and the teardown when it ends.

mod ast;
mod expand;

pub(crate) use ast::{Args, Main};

use proc_macro2::TokenStream;

/// Checks `main` and wraps it. With invalid input, the error comes with the function
/// unchanged, so its body still type-checks and reports its own errors.
pub(crate) fn expand(args: Args, main: Main) -> syn::Result<TokenStream> {
    match ast::validate(&main) {
        Ok(()) => Ok(expand::expand(&args, main)),
        Err(error) => {
            let item = main.item;
            let mut tokens = quote::quote!(#item);
            tokens.extend(error.into_compile_error());
            Ok(tokens)
        }
    }
}
