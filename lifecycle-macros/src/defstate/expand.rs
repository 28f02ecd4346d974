//! Generation: the code each macro expands to, and the entry points that run the phases
//! (parse → check → generate, or the fallback when something is wrong).
//!
//! Generated code names only `::core::...` and `<crate>::__private::...` (`::lifecycle` unless
//! `crate = path` says otherwise), so nothing a user defines can capture it. Helper items live
//! inside the static's initializer block, invisible outside it; the few local variables have
//! mixed-site hygiene, so the user's expressions cannot see them.
//!
//! Only `fallback` imports it back: the fallback runs this generation on a state stripped of
//! its faulty options.
//!
//! Imports `common` (`entry`, `errors`, `span`), `defstate`'s `ast`, `parse`, `valid` and
//! `fallback`, and its own `async_state` and `hot`; must not import another macro's modules.

mod async_state;
mod hot;

use crate::common::entry;
use crate::common::errors::Errors;
pub(crate) use crate::common::span::{parenthesized, respan};
use crate::defstate::ast::{Annotated, Init, LocalState, Options, StateBlock, StaticState, Stop};
use crate::defstate::fallback;
use crate::defstate::parse;
use crate::defstate::valid;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::LitStr;

/// `#[defstate(args)] item`.
pub(crate) fn defstate_attr(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let options = (|input: ParseStream| parse::parse_attr_options(input, &mut errors)).parse2(args);
    let options = errors.ok(options).unwrap_or_default();
    let mut state = match syn::parse2::<Annotated>(item.clone()) {
        Ok(Annotated::State(state)) => *state,
        Ok(Annotated::Other(other)) => {
            errors.push(fallback::not_a_static(&other));
            return Ok(entry::keep_item(errors, &item));
        }
        Err(error) => {
            errors.push(error);
            return Ok(entry::keep_item(errors, &item));
        }
    };
    state.options = options;
    if !state.generics.params.is_empty() || state.ty.is_none() {
        // The compiler's parser has already reported this item's generics ("static items may
        // not have generic parameters") or missing type, and still passes the item on: saying
        // it again would make one mistake two errors. (A missing initializer is reported after
        // expansion, on the item as the macro leaves it, so that one is ours to report.)
        return Ok(entry::with_errors(errors, fallback::static_state(&state)));
    }
    Ok(checked_static_state(&state, errors))
}

/// `defstate! { ... }`.
pub(crate) fn defstate_block(input: TokenStream) -> syn::Result<TokenStream> {
    let StateBlock {
        states,
        broken,
        errors,
    } = syn::parse2(input)?;
    let mut expanded = TokenStream::new();
    if let Some(error) = errors.into_error() {
        expanded.extend(error.into_compile_error());
    }
    for state in &states {
        expanded.extend(checked_static_state(state, Errors::new()));
    }
    for state in &broken {
        expanded.extend(fallback::static_state(state));
    }
    Ok(expanded)
}

/// `state!(...)`.
pub(crate) fn state(input: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let call_site = Span::call_site();
    let parsed =
        (|input: ParseStream| parse::parse_local(input, call_site, &mut errors)).parse2(input);
    let state = match parsed {
        Ok(Some(state)) => state,
        Ok(None) => return Ok(fallback::local_state(None, errors)),
        Err(error) => {
            errors.push(error);
            return Ok(fallback::local_state(None, errors));
        }
    };
    valid::local_state(&state, &mut errors);
    if errors.is_empty() {
        match local_state(&state) {
            Ok(expanded) => return Ok(expanded),
            Err(error) => errors.push(error),
        }
    }
    Ok(fallback::local_state(Some(&state), errors))
}

/// Checks `state` (after the errors already in `errors`) and expands it, or its fallback.
fn checked_static_state(state: &StaticState, mut errors: Errors) -> TokenStream {
    valid::static_state(state, &mut errors);
    if errors.is_empty() {
        match static_state(state) {
            Ok(expanded) => return expanded,
            Err(error) => errors.push(error),
        }
    }
    entry::with_errors(errors, fallback::static_state(state))
}

/// A `static NAME: State<T>` whose core lives in a hidden static next to its start and stop
/// functions, registered with `inventory` for `lifecycle::declared()`.
pub(crate) fn static_state(state: &StaticState) -> syn::Result<TokenStream> {
    let StaticState {
        ident,
        ty,
        init,
        options,
        ..
    } = state;
    let Some(ty) = ty else {
        return Err(syn::Error::new(ident.span(), "a state needs its type"));
    };
    let private = private(options);
    let value = format_ident!("__lifecycle_value", span = Span::mixed_site());
    // Start and stop are closures coerced to the `fn` pointers `__private::static_core` takes, not
    // named `fn`s: a `fn` signature would need the lifetimes a static's type may elide
    // (`static NAME: &str` is `&'static str`, `fn() -> &str` is an error).
    let supervise = supervise_call(&private, "supervise_static", ident, ty, options);
    let start = match init {
        Some(Init::Expr(expr)) => quote! {
            || {
                #supervise
                let #value: #ty = #expr;
                ::core::result::Result::Ok(#value)
            }
        },
        Some(Init::Async(block)) => return Ok(async_state::static_state(state, ty, block)),
        Some(Init::Unusable) => quote! {
            || ::core::result::Result::Err(::core::convert::From::from("this state did not compile"))
        },
        None => {
            return Err(syn::Error::new(
                ident.span(),
                "a state needs a start expression",
            ))
        }
    };
    let stop = match &options.stop {
        None => quote!(::core::option::Option::None),
        Some(Stop::Function(function)) => stop_function(&private, "stop_with", function, ty),
        Some(Stop::Binding { pat, body }) => {
            let at = body.span();
            let convert = respan(&quote!(#private::StopReturn::into_stop_result), at);
            let args = parenthesized(body.to_token_stream(), at);
            quote! {
                ::core::option::Option::Some(|#pat| #convert #args)
            }
        }
    };
    Ok(static_item(
        state,
        ty,
        &private,
        &StaticFlavor::SYNC,
        &start,
        &stop,
    ))
}

/// `__private::supervise_static(&STATE, config, check);` (or `supervise_static_async`, the
/// function named) for a supervised static (its start registers it and tells the supervisor
/// it begins), or nothing.
pub(crate) fn supervise_call(
    private: &TokenStream,
    function: &str,
    ident: &syn::Ident,
    ty: &syn::Type,
    options: &Options,
) -> TokenStream {
    if !options.supervised() {
        return TokenStream::new();
    }
    let nanos = |d: std::time::Duration| {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        quote!(::core::time::Duration::from_nanos(#n))
    };
    let mut config = quote!(#private::Supervise::new());
    let supervision = options.supervise.as_ref();
    if let Some((min, max)) = supervision.and_then(|s| s.backoff) {
        let (min, max) = (nanos(min), nanos(max));
        config.extend(quote!(.backoff(#min, #max)));
    }
    if let Some(n) = supervision.and_then(|s| s.max_restarts) {
        config.extend(quote!(.max_restarts(#n)));
    }
    if let Some(within) = supervision.and_then(|s| s.within) {
        let within = nanos(within);
        config.extend(quote!(.within(#within)));
    }
    let interval = options.interval.or(supervision.and_then(|s| s.interval));
    if let Some((_, interval)) = interval {
        let interval = nanos(interval);
        config.extend(quote!(.interval(#interval)));
    }
    if let (true, Some(check)) = (function.ends_with("_async"), &options.check) {
        if is_async_closure(check) {
            // `check = |v| async move { .. }`: the future of the check on a guard of the value.
            let at = check.span();
            let value = format_ident!("__lifecycle_value", span = Span::mixed_site());
            let call = quote_spanned!(at=> #private::check_future(#value, #check));
            return quote! {
                #private::supervise_static_async_awaiting(
                    &#ident,
                    #config,
                    |#value: #private::AsyncRef<#ty>| #call,
                );
            };
        }
    }
    let check = match &options.check {
        None => quote!(::core::option::Option::None),
        Some(check) => {
            let at = check.span();
            let value = format_ident!("__lifecycle_value", span = Span::mixed_site());
            let call = quote_spanned!(at=> #private::check_value(#value, #check));
            quote! {
                ::core::option::Option::Some(|#value: &#ty| #call)
            }
        }
    };
    let function = format_ident!("{}", function);
    quote! {
        #private::#function(&#ident, #config, #check);
    }
}

/// True for `|v| async { .. }` (the body an `async` block, possibly in braces).
fn is_async_closure(check: &syn::Expr) -> bool {
    let syn::Expr::Closure(closure) = check else {
        return false;
    };
    match &*closure.body {
        syn::Expr::Async(_) => true,
        syn::Expr::Block(block) => matches!(
            block.block.stmts.as_slice(),
            [syn::Stmt::Expr(syn::Expr::Async(_), None)]
        ),
        _ => false,
    }
}

/// The runtime names that differ between a sync and an async static state.
pub(crate) struct StaticFlavor {
    state: &'static str,
    core: &'static str,
    new_core: &'static str,
    declaration: &'static str,
    from_core: &'static str,
}

impl StaticFlavor {
    const SYNC: Self = Self {
        state: "StaticState",
        core: "StaticCore",
        new_core: "static_core",
        declaration: "declaration",
        from_core: "static_state",
    };
    pub(crate) const ASYNC: Self = Self {
        state: "StaticAsyncState",
        core: "StaticAsyncCore",
        new_core: "static_async_core",
        declaration: "async_declaration",
        from_core: "static_async_state",
    };
}

/// `static NAME: State<T> = { static CORE: Core<T> = ..; submit!(..); static_state(&CORE) };`
/// (or the async twins), the core made from the state's info and the closures `start` and
/// `stop`.
///
/// The static's type is written `StaticState<T>` (a projection that checks `T: StateValue`),
/// and so is the core's, with the same tokens at the same place: a value type that is not
/// `Send + Sync` gives one error on the user's type, and every other use of the type is
/// then an error type the compiler says nothing more about.
pub(crate) fn static_item(
    state: &StaticState,
    ty: &syn::Type,
    private: &TokenStream,
    flavor: &StaticFlavor,
    start: &TokenStream,
    stop: &TokenStream,
) -> TokenStream {
    let StaticState {
        attrs,
        vis,
        keyword,
        ident,
        init,
        options,
        ..
    } = state;
    let info = state_info(
        private,
        &static_name(state),
        ident.span(),
        options,
        init.as_ref(),
    );
    let name = |name: &str| proc_macro2::Ident::new(name, Span::call_site());
    let (state_name, core_name) = (name(flavor.state), name(flavor.core));
    let (new_core, declaration, from_core) = (
        name(flavor.new_core),
        name(flavor.declaration),
        name(flavor.from_core),
    );
    let at = ty.span();
    let state_ty = generic(quote!(#private::#state_name), ty, at);
    let core_ty = generic(quote!(#private::#core_name), ty, at);
    let static_token = keyword.static_token();
    quote! {
        #(#attrs)*
        #vis #static_token #ident: #state_ty = {
            static __LIFECYCLE_CORE: #core_ty = #private::#new_core(#info, #start, #stop);
            #private::inventory::submit! {
                #private::#declaration(&__LIFECYCLE_CORE)
            }
            #private::#from_core(&__LIFECYCLE_CORE)
        };
    }
}

/// The name of a static state: `name = "..."`, else `"<module path>::<IDENT>"`.
fn static_name(state: &StaticState) -> TokenStream {
    let ident = &state.ident;
    match &state.options.name {
        Some(name) => name.to_token_stream(),
        None => {
            let suffix = LitStr::new(&format!("::{}", unraw(ident)), ident.span());
            quote_spanned!(ident.span()=> ::core::concat!(::core::module_path!(), #suffix))
        }
    }
}

/// The name of a local state: `name: "..."`, else `"state@<file>:<line>:<column>"`.
fn local_name(options: &Options, call_site: Span) -> TokenStream {
    match &options.name {
        Some(name) => name.to_token_stream(),
        None => quote_spanned! {call_site=>
            ::core::concat!("state@", ::core::file!(), ":", ::core::line!(), ":", ::core::column!())
        },
    }
}

/// `__private` and the `state_info(..)` of a local state.
pub(crate) fn local_info(
    options: &Options,
    call_site: Span,
    init: &Init,
) -> (TokenStream, TokenStream) {
    let private = private(options);
    let name = local_name(options, call_site);
    let info = state_info(&private, &name, call_site, options, Some(init));
    (private, info)
}

/// A `State<T>` value made from closures.
pub(crate) fn local_state(state: &LocalState) -> syn::Result<TokenStream> {
    let LocalState {
        start,
        options,
        call_site,
    } = state;
    let start = match start {
        Init::Expr(expr) => expr,
        Init::Async(block) => return Ok(async_state::local_state(state, block)),
        Init::Unusable => {
            return Err(syn::Error::new(
                *call_site,
                "a state needs a start expression",
            ))
        }
    };
    let (private, info) = local_info(options, *call_site, &state.start);
    // Placed on the start expression: a value or capture that is not `Send + Sync + 'static`
    // is reported there.
    let start = {
        let at = start.span();
        let closure = respan(&quote!(move || ::core::result::Result::Ok), at);
        let args = parenthesized(start.to_token_stream(), at);
        quote!(#closure #args)
    };
    Ok(match &options.stop {
        None => quote! {
            #private::local_state(#info, #start)
        },
        Some(Stop::Function(stop)) => {
            let at = stop.span();
            let with_stop = respan(&quote!(#private::local_state_with_stop), at);
            let args = parenthesized(quote!(#info, #start, #stop), at);
            quote!(#with_stop #args)
        }
        Some(Stop::Binding { pat, body }) => {
            // Not produced by `state!`'s grammar; kept total rather than unreachable.
            quote! {
                #private::local_state_with_stop(#info, #start, move |#pat| #body)
            }
        }
    })
}

/// `__private::state_info(name, module, file, line, meta)`; `at` places `file!()` and `line!()`.
/// `init` and the stop in `options` are the code a hot patch is checked against (`hot`).
fn state_info(
    private: &TokenStream,
    name: &TokenStream,
    at: Span,
    options: &Options,
    init: Option<&Init>,
) -> TokenStream {
    let keys = options
        .meta
        .iter()
        .map(|pair| LitStr::new(&unraw(&pair.key), pair.key.span()));
    let values = options.meta.iter().map(|pair| &pair.value);
    // Spanned at the declaration so that they name its file and line, not the macro's.
    let module = quote_spanned!(at=> ::core::module_path!());
    let file = quote_spanned!(at=> ::core::file!());
    let line = quote_spanned!(at=> ::core::line!());
    let info = quote! {
        #private::state_info(#name, #module, #file, #line, &[#((#keys, #values)),*])
    };
    let info = match options.reload {
        Some(at) => quote_spanned!(at=> #info.reloadable()),
        None => info,
    };
    hot::with_fingerprint(private, info, init, options)
}

/// `::lifecycle::__private`, or `<crate = path>::__private`.
fn private(options: &Options) -> TokenStream {
    match &options.krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::lifecycle::__private),
    }
}

/// `path<ty>` with the generated tokens placed at `at`; `ty` keeps its own spans, so that the
/// compiler reports a mistake in it once, however often it is repeated.
fn generic(path: TokenStream, ty: &syn::Type, at: Span) -> TokenStream {
    let path = respan(&path, at);
    let open = respan(&quote!(<), at);
    let close = respan(&quote!(>), at);
    quote!(#path #open #ty #close)
}

/// `(tokens)` with the parentheses placed at `at`.
/// `Some(|value| <private>::<helper>::<T, _>(function, value))` for `stop = function`.
///
/// All of the call is placed on the function, so that a function of the wrong type is
/// reported there; the turbofish makes "the wrong type" mean "not `fn(T)`".
fn stop_function(
    private: &TokenStream,
    helper: &str,
    function: &impl ToTokens,
    ty: &syn::Type,
) -> TokenStream {
    let at = function.span();
    let value = format_ident!(
        "__lifecycle_value",
        span = Span::mixed_site().located_at(at)
    );
    let helper = proc_macro2::Ident::new(helper, Span::call_site());
    let call_stop = respan(&quote!(#private::#helper::<), at);
    let rest = respan(&quote!(, _>), at);
    let args = parenthesized(quote!(#function, #value), at);
    quote! {
        ::core::option::Option::Some(|#value| #call_stop #ty #rest #args)
    }
}

fn unraw(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}
