//! The code of `#[lifecycle::main]`: the body moves into an inner function with the same
//! signature (so `return` and `?` keep their meaning), and `main` runs it inside a guard.
//!
//! ```text
//! fn main() -> ::std::process::ExitCode {
//!     fn __lifecycle_main() -> Result<(), Error> { /* the body */ }
//!     let guard = MainGuard::start();                         // signals, SIGHUP, atexit
//!     let returned = __lifecycle_main();
//!     let report = (&&&MainReturned(&returned)).lifecycle_main_kind(); // Display or Debug
//!     guard.finish(report.finish(returned, main_result::<Result<(), Error>>))
//!     // ^ reports Err first, then the teardown; a panic tears down as it unwinds
//!
//! Imports `common` (`span`) and its own `parse`; must not import another macro's modules.

//! }
//! ```
//!
//! An `async fn main` under `#[tokio::main]` first hands its runtime to SIGHUP's reloads
//! (`__private::reload_on`), so async states reload on the program's runtime.

use super::parse::{is_outer_attr, is_tokio_main, Args, Main};
use crate::common::span::hidden;
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
        ..
    } = main.item;
    let (outer, inner): (Vec<_>, Vec<_>) = attrs.into_iter().partition(is_outer_attr);
    let on_tokio = sig.asyncness.is_some() && inner.iter().any(is_tokio_main);
    let block = if on_tokio {
        let runtime = hidden("__lifecycle_runtime");
        quote! {{
            let #runtime = ::tokio::runtime::Handle::current();
            #krate::__private::reload_on(move |reload| #runtime.block_on(reload));
            #block
        }}
    } else {
        quote!(#block)
    };
    let name = sig.ident.clone();
    let body_fn = syn::Ident::new("__lifecycle_main", sig.ident.span());
    sig.ident = body_fn.clone();
    // Spanned at the return type: a type `main` cannot return is reported there.
    let report = match &sig.output {
        syn::ReturnType::Default => {
            quote_spanned!(sig.ident.span()=> #krate::__private::main_result::<()>)
        }
        syn::ReturnType::Type(_, ty) => {
            quote_spanned!(ty.span()=> #krate::__private::main_result::<#ty>)
        }
    };
    let guard = hidden("__lifecycle_guard");
    let returned = hidden("__lifecycle_returned");
    let report_of = hidden("__lifecycle_report");
    // Autoref specialization picks how an `Err` is printed: `Display` and its source chain
    // for an `Error` (or a `Box` of one), else `Debug` through `main_result`.
    quote! {
        #(#outer)*
        #vis fn #name() -> ::std::process::ExitCode {
            #(#inner)*
            #sig #block

            let #guard = #krate::__private::MainGuard::start();
            let #returned = #body_fn();
            let #report_of = {
                use #krate::__private::{
                    MainBoxedErrorKind as _, MainDebugKind as _, MainErrorKind as _,
                };
                (&&&#krate::__private::MainReturned(&#returned)).lifecycle_main_kind()
            };
            #krate::__private::MainGuard::finish(
                #guard,
                #krate::__private::MainReport::finish(#report_of, #returned, #report),
            )
        }
    }
}
