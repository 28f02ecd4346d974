//! Async states: a static with an `async { ... }` initializer (`#[defstate]`, `defstate!`) and
//! `state!(async { ... })`.
//!
//! The same shape as a sync state, over the async runtime types: the static is an
//! `AsyncState<T>` over a hidden `AsyncCore<T>`, whose start is a closure coerced to
//! `fn() -> StartFuture<T>` that boxes `async move { let value: T = <block>; Ok(value) }`, so
//! `?` and `.await` work in the block as in the start of a sync state. A stop function's
//! future is boxed by `call_async_stop` (a function or closure returning a future) or, for
//! `stop(value) => body;`, by wrapping the body in `async move`.

use super::{local_name, parenthesized, private, respan, state_info, static_name};
use crate::ast::{LocalState, StaticState, Stop};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::{ExprAsync, Type};

/// `static NAME: AsyncState<T>` for `static NAME: T = async { ... };`.
pub(crate) fn static_state(state: &StaticState, ty: &Type, init: &ExprAsync) -> TokenStream {
    let StaticState {
        attrs,
        vis,
        keyword,
        ident,
        options,
        ..
    } = state;
    let private = private(options);
    let value = format_ident!("__lifecycle_value", span = Span::mixed_site());
    let block = statements(init);
    // The `async` block is placed on the user's: "future is not `Send`" points there.
    // The `async` block and the call that requires it to be `Send` are placed on the user's
    // `async`, so "future is not `Send`" points there.
    let at = init.async_token.span;
    let boxed = respan(&quote!(|| #private::box_start), at);
    let future = respan(&quote!(async move), at);
    let args = parenthesized(
        quote! {
            #future {
                let #value: #ty = #block;
                ::core::result::Result::Ok::<_, #private::BoxError>(#value)
            }
        },
        at,
    );
    let start = quote!(#boxed #args);
    let stop = match &options.stop {
        None => quote!(::core::option::Option::None),
        // As for sync states: a function of the wrong type (or one that returns no future)
        // is reported on the function.
        Some(Stop::Function(function)) => {
            super::stop_function(&private, "call_async_stop", function, ty)
        }
        Some(Stop::Binding { pat, body }) => {
            let at = body.span();
            let boxed = respan(&quote!(#private::box_stop), at);
            let args = parenthesized(quote!(async move { #body }), at);
            quote! {
                ::core::option::Option::Some(|#pat| #boxed #args)
            }
        }
    };
    let info = state_info(&private, &static_name(state), ident.span(), options);
    let at = ty.span();
    let state_ty = super::generic(quote!(#private::AsyncState), ty, at);
    let core_ty = super::generic(quote!(#private::AsyncCore), ty, at);
    let core_ref = respan(&quote!(&__LIFECYCLE_CORE), at);
    let declaration = respan(&quote!(#private::Declaration::new_async), at);
    let declaration_args = parenthesized(core_ref.clone(), at);
    let static_state = respan(&quote!(#private::static_async_state), at);
    let static_state_args = parenthesized(core_ref, at);
    let static_token = keyword.static_token();
    quote! {
        #(#attrs)*
        #vis #static_token #ident: #state_ty = {
            static __LIFECYCLE_CORE: #core_ty = #private::AsyncCore::new_static(
                #info,
                #start,
                #stop,
            );
            #private::inventory::submit! {
                #declaration #declaration_args
            }
            #static_state #static_state_args
        };
    }
}

/// The statements of the user's `async` block in a block of our own: the user's braces would
/// be linted as unnecessary (`unused_braces`) where the block is an argument.
fn statements(init: &ExprAsync) -> TokenStream {
    let statements = &init.block.stmts;
    quote!({ #(#statements)* })
}

/// An `AsyncState<T>` value for `state!(async { ... })`.
///
/// The start closure runs the block anew for every start, so the block can use only what it
/// can copy from the surroundings (`Copy` values, `&'static` references); for anything else
/// build the state with `AsyncState::new` and clone inside the closure.
pub(crate) fn local_state(state: &LocalState, init: &ExprAsync) -> TokenStream {
    let LocalState {
        options, call_site, ..
    } = state;
    let private = private(options);
    let info = state_info(
        &private,
        &local_name(options, *call_site),
        *call_site,
        options,
    );
    let start = {
        let at = init.async_token.span;
        let block = statements(init);
        let boxed = respan(&quote!(move || #private::box_start), init.async_token.span);
        let future = respan(&quote!(async move), init.async_token.span);
        let args = parenthesized(
            quote!(#future { ::core::result::Result::Ok::<_, #private::BoxError>(#block) }),
            at,
        );
        quote!(#boxed #args)
    };
    match &options.stop {
        None => quote! {
            #private::local_async_state(#info, #start)
        },
        Some(Stop::Function(stop)) => {
            let at = stop.span();
            let with_stop = respan(&quote!(#private::local_async_state_with_stop), at);
            let args = parenthesized(quote!(#info, #start, #stop), at);
            quote!(#with_stop #args)
        }
        Some(Stop::Binding { pat, body }) => {
            // Not produced by `state!`'s grammar; kept total rather than unreachable.
            let body = body.to_token_stream();
            quote! {
                #private::local_async_state_with_stop(#info, #start, move |#pat| async move { #body })
            }
        }
    }
}
