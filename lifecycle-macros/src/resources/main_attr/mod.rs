//! `#[lifecycle::main]`: shutdown handling around `fn main`, and the teardown when it ends.

mod ast;
mod expand;

pub(crate) use ast::{Args, Main};

use proc_macro2::TokenStream;

/// Checks `main` and wraps it. With invalid input, the error comes with a fallback: the
/// function under another name (so its body still reports its own errors, and the compiler
/// does not repeat ours about `main`) and a `main` with the signature a valid one gets.
pub(crate) fn expand(args: Args, main: Main) -> syn::Result<TokenStream> {
    match ast::validate(&main) {
        Ok(()) => Ok(expand::expand(&args, main)),
        Err(error) => {
            let mut item = main.item;
            let name = item.sig.ident.clone();
            let vis = item.vis.clone();
            item.sig.ident = quote::format_ident!("__lifecycle_invalid_{}", name);
            let mut tokens = quote::quote! {
                #[allow(dead_code)]
                #item
                #vis fn #name() -> ::std::process::ExitCode {
                    ::std::process::ExitCode::FAILURE
                }
            };
            tokens.extend(error.into_compile_error());
            Ok(tokens)
        }
    }
}
