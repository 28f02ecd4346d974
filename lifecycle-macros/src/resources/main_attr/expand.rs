//! The code of `#[lifecycle::main]`: the body moves into an inner function with the same
//! signature (so `return` and `?` keep their meaning), and `main` runs it inside a guard.
//!
//! ```text
//! fn main() -> ::std::process::ExitCode {
//!     fn __lifecycle_main() -> Result<(), Error> { /* the body */ }
//!     let guard = MainGuard::start();          // signals, atexit
//!     guard.finish(__lifecycle_main())         // teardown; panics tear down on unwind
//! }
//! ```

use super::ast::{is_outer_attr, Args, Main};
use crate::resources::hidden;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(args: &Args, main: Main) -> TokenStream {
    let krate = &args.krate;
    let syn::ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = main.item;
    let (outer, inner): (Vec<_>, Vec<_>) = attrs.into_iter().partition(is_outer_attr);
    let name = sig.ident.clone();
    let body_fn = syn::Ident::new("__lifecycle_main", sig.ident.span());
    sig.ident = body_fn.clone();
    let result_span = match &sig.output {
        syn::ReturnType::Default => sig.fn_token.span(),
        syn::ReturnType::Type(_, ty) => ty.span(),
    };
    let guard = hidden("__lifecycle_guard");
    // Spanned at the return type: a type `main` cannot return is reported there.
    let finish = quote_spanned!(result_span=> #krate::__private::MainGuard::finish);
    quote! {
        #(#outer)*
        #vis fn #name() -> ::std::process::ExitCode {
            #(#inner)*
            #sig #block

            let #guard = #krate::__private::MainGuard::start();
            #finish(#guard, #body_fn())
        }
    }
}
