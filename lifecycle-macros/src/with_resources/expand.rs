//! The code of `with_resources!`: nested scopes, one per binding, each closing its resource
//! after the scopes inside it.
//!
//! ```text
//! ::lifecycle::__private::Outcome::finish({                     // Result<Body, Error>
//!     let mut db = opened("db", resource(open_db()));             // `?` → opening fails
//!     let inner = { /* the next binding, then */ Outcome::ok({ body }) };
//!     close_after(db, inner)                                      // close db, keep errors
//! })
//! ```
//!
//! Each name is bound to its [`Opened`] guard, which derefs to the resource. A guard left by
//! a panic (or a `return`/`break` out of the body) closes when it drops, in reverse order;
//! the panic then goes on.
//!
//! `with_resources!(async [...] { ... })` is the same shape over the async twins: each
//! resource is an `AsyncResource`, the guard an `AsyncOpened`, and each close is awaited
//! (`async_close_after(guard, inner).await`).
//!
//! [`Opened`]: https://docs.rs/lifecycle/latest/lifecycle/resource/struct.Opened.html
//!
//! Imports `common` (`block`, `krate`, `resource`, `span`, `try_rewrite`) and its own `parse`; must
//! not import another macro's modules.

use super::parse::{Binding, Input};
use crate::common::block::BlockInput;
use crate::common::krate::CratePath;
use crate::common::resource::Flavor;
use crate::common::span::hidden;
use crate::common::try_rewrite;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Lifetime, LitStr};

pub(crate) fn expand(input: BlockInput<Input>) -> syn::Result<TokenStream> {
    let BlockInput {
        krate,
        errors,
        grammar: Input {
            asyncness,
            bindings,
            body,
        },
    } = input;
    let flavor = Flavor::new(&krate, asyncness.is_some());
    // The body's statements go in braces of ours: a single-expression body in the user's
    // own braces would draw `unused_braces`. A body that diverges (`panic!`, `unreachable!`)
    // is fine, so the `let` holding it allows clippy's `diverging_sub_expression`, and the
    // code after it is unreachable by design: the first unreachable statement is ours and
    // allows it, which keeps the lint quiet for the rest of the expansion.
    let stmts = &body.stmts;
    let value = hidden("__lifecycle_value");
    let outcome = hidden("__lifecycle_outcome");
    let innermost = quote! {{
        #[allow(clippy::diverging_sub_expression)]
        let #value = { #(#stmts)* };
        #[allow(unreachable_code)]
        let #outcome = #krate::__private::Outcome::ok(#value);
        #outcome
    }};
    let nested = bindings
        .into_iter()
        .enumerate()
        .rev()
        .fold(innermost, |inner, (at, binding)| {
            scope(&krate, &flavor, at, binding, inner)
        });
    let finish = quote!(#krate::__private::Outcome::finish(#nested));
    Ok(match errors.into_error() {
        None => finish,
        Some(error) => {
            let error = error.into_compile_error();
            quote!({ #error; #finish })
        }
    })
}

/// The scope of one binding around `inner` (the later bindings and the body).
fn scope(
    krate: &CratePath,
    flavor: &Flavor,
    at: usize,
    binding: Binding,
    inner: TokenStream,
) -> TokenStream {
    let Flavor {
        open: open_fn,
        close_after,
        wait,
        ..
    } = flavor;
    let label_name = LitStr::new(&binding.display_name(), binding.expr.span());
    // The guard is the binding itself; `_` gets a name the user cannot see.
    let guard = binding
        .name
        .clone()
        .unwrap_or_else(|| hidden(&format!("__lifecycle_unnamed_{at}")));
    let inner_outcome = hidden("__lifecycle_inner");
    let use_guard = quote! {
        let #inner_outcome = #inner;
        #close_after(#guard, #inner_outcome) #wait
    };
    let mut expr = binding.expr;
    let label = Lifetime::new("'__lifecycle_open", Span::mixed_site());
    let fallible = try_rewrite::rewrite(&mut expr, &label, krate);
    let checked = flavor.check(krate, &expr, None);
    if fallible {
        let value = hidden("__lifecycle_value");
        let error = hidden("__lifecycle_error");
        let opened = hidden("__lifecycle_opened");
        quote! {{
            let #opened = #label: {
                ::core::result::Result::Ok::<_, #krate::Error>(#checked)
            };
            match #opened {
                ::core::result::Result::Ok(#value) => {
                    #[allow(unused_mut)]
                    let mut #guard = #open_fn(#label_name, #value);
                    #use_guard
                }
                ::core::result::Result::Err(#error) => #krate::__private::Outcome::failed(
                    #krate::__private::open_failed(#label_name, #error),
                ),
            }
        }}
    } else {
        quote! {{
            #[allow(unused_mut)]
            let mut #guard = #open_fn(#label_name, #checked);
            #use_guard
        }}
    }
}
