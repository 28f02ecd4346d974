//! Async states: a static with an `async { ... }` initializer (`#[defstate]`, `defstate!`) and
//! `state!(async { ... })`.
//!
//! The same shape as a sync state, over the async runtime types: the static is an
//! `AsyncState<T>` over a hidden `AsyncCore<T>`, whose start is a closure coerced to
//! `fn() -> StartFuture<T>` that boxes `async move { let value: T = <block>; Ok(value) }`, so
//! `?` and `.await` work in the block as in the start of a sync state. A stop function may
//! return a future or a plain `()`/`Result` (see [`stop_function`]); `stop(value) => body;`
//! wraps the body in `async move`.
//!
//! Imports `defstate`'s `ast` and its parent `expand`'s helpers; must not import another macro's
//! modules.

use super::{parenthesized, private, respan};
use crate::defstate::ast::{LocalState, StaticState, Stop};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::{ExprAsync, Type};

/// `static NAME: AsyncState<T>` for `static NAME: T = async { ... };`.
pub(crate) fn static_state(state: &StaticState, ty: &Type, init: &ExprAsync) -> TokenStream {
    let StaticState { ident, options, .. } = state;
    let private = private(options);
    let value = format_ident!("__lifecycle_value", span = Span::mixed_site());
    let block = statements(init);
    // In the poll of the start: the supervisor sees the runtime the start runs on.
    let supervise = super::supervise_call(&private, "supervise_static_async", ident, ty, options);
    // The `async` block is placed on the user's: "future is not `Send`" points there.
    // The `async` block and the call that requires it to be `Send` are placed on the user's
    // `async`, so "future is not `Send`" points there.
    let at = init.async_token.span;
    let boxed = respan(&quote!(|| #private::box_start), at);
    let future = respan(&quote!(async move), at);
    let args = parenthesized(
        quote! {
            #future {
                #supervise
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
        Some(Stop::Function(function)) => stop_function(&private, function, Some(ty)),
        Some(Stop::Binding { pat, body }) => {
            let at = body.span();
            let boxed = respan(&quote!(#private::box_stop), at);
            let args = parenthesized(quote!(async move { #body }), at);
            quote! {
                ::core::option::Option::Some(|#pat| #boxed #args)
            }
        }
    };
    super::static_item(
        state,
        ty,
        &private,
        &super::StaticFlavor::ASYNC,
        &start,
        &stop,
    )
}

/// The stop of an async state from `stop = function`: the function may return a future
/// (`|v| async move { .. }`) or a plain value (`|v| log(v)`, `()` or `Result<(), E>`), and
/// either becomes a `StopFuture` through autoref specialization (`__private::FutureStopKind`
/// is found before `PlainStopKind`, which needs one more `&`).
///
/// With the state's type (statics), `Some(|value| ..)` coerced to a `fn` pointer, the call
/// typed `call_stop_fn::<T, _>` so that a function of the wrong type is reported on it;
/// without (local states), the closure `move |value| ..` over `__lifecycle_stop`.
fn stop_function(
    private: &TokenStream,
    function: &impl ToTokens,
    ty: Option<&Type>,
) -> TokenStream {
    let at = function.span();
    let hidden = |name: &str| proc_macro2::Ident::new(name, Span::mixed_site().located_at(at));
    let (value, returned) = (hidden("__lifecycle_value"), hidden("__lifecycle_returned"));
    let kinds = quote!(use #private::{FutureStopKind as _, PlainStopKind as _};);
    let convert = respan(
        &quote!((&#returned).lifecycle_stop_kind().into_stop_future(#returned)),
        at,
    );
    match ty {
        Some(ty) => {
            let call = respan(&quote!(#private::call_stop_fn::<), at);
            let rest = respan(&quote!(, _>), at);
            let args = parenthesized(quote!(#function, #value), at);
            quote! {
                ::core::option::Option::Some(|#value| {
                    #kinds
                    let #returned = #call #ty #rest #args;
                    #convert
                })
            }
        }
        None => {
            let stop = hidden("__lifecycle_stop");
            let call = parenthesized(quote!(#value), at);
            quote! {
                move |#value| {
                    #kinds
                    let #returned = #stop #call;
                    #convert
                }
            }
        }
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
    let (private, info) = super::local_info(options, *call_site, &state.start);
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
        Some(Stop::Function(function)) => {
            // `stop_of` types the function's argument as the state's value; the closure
            // around it turns what it returns into a `StopFuture`.
            let at = function.span();
            let hidden = |name: &str| proc_macro2::Ident::new(name, Span::mixed_site());
            let (state, stop) = (hidden("__lifecycle_state"), hidden("__lifecycle_stop"));
            let stop_of = respan(&quote!(#private::stop_of), at);
            let args = parenthesized(quote!(&#state, #function), at);
            let wrapper = stop_function(&private, function, None);
            quote! {{
                let #state = #private::local_async_state(#info, #start);
                let #stop = #stop_of #args;
                #state.with_stop(#wrapper)
            }}
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
