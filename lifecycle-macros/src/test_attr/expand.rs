//! The code of `#[lifecycle::test]`: the body runs in a private world, as a closure (sync)
//! or an `async move` block (async), so `return` and `?` keep their meaning.
//!
//! ```text
//! #[test]                                   // sync: added here
//! fn name() -> R { ::lifecycle::isolate(move || -> R { /* the body */ }) }
//!
//! #[tokio::test]                            // async: the user's runtime attribute, kept
//! async fn name() -> R { ::lifecycle::isolate_async(async move { /* the body */ }).await }
//! ```
//!
//! Imports only its own `parse`; must not import another macro's modules.

use super::parse::{Args, TestFn};
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: &Args, test: TestFn) -> TokenStream {
    let krate = &args.krate;
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = test.item;
    if sig.asyncness.is_some() {
        return quote! {
            #(#attrs)*
            #vis #sig {
                #krate::isolate_async(async move #block).await
            }
        };
    }
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(),
        syn::ReturnType::Type(arrow, ty) => quote!(#arrow #ty),
    };
    quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis #sig {
            #krate::isolate(move || #output #block)
        }
    }
}
