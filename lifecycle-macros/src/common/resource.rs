//! What the resource macros (`with_resources!`, `mk_system!`) share: the runtime names that
//! differ between a sync macro and its async twin, and the "is this a resource" check placed
//! on the user's expression.
//!
//! These macros need syn's `visit-mut` feature: `try_rewrite` walks the opening expressions
//! to turn their `?` into an early end of the opening (so what was opened can be closed).
//!
//! Imports only `common`'s `krate`; must not import any macro's module (they are all built on
//! `common`).

use super::krate::CratePath;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// `resource(expr)`, spanned at the expression so "not a resource" is reported there. With
/// the declared type of a system's part, the expression is checked against that type (so a
/// closure can coerce to the `fn` pointer of `Closeable<T>`, and a mismatch shows there).
pub(crate) fn check_resource(
    krate: &CratePath,
    expr: &syn::Expr,
    ty: Option<&syn::Type>,
) -> TokenStream {
    check_at("resource", krate, expr.span(), quote!(#expr), ty)
}

/// The runtime names that differ between the sync macros and their async twins
/// (`with_resources!(async ...)`, `mk_system! { async struct ... }`).
pub(crate) struct Flavor {
    /// `opened` or `async_opened`: holds an opened value under its name.
    pub(crate) open: TokenStream,
    /// `opened_into_inner` or `async_opened_into_inner`: the value, kept by a system.
    pub(crate) into_inner: TokenStream,
    /// `close_after` or `async_close_after`: closes a value after the rest of the scope.
    pub(crate) close_after: TokenStream,
    /// Nothing, or `.await` after a close.
    pub(crate) wait: TokenStream,
    is_async: bool,
}

impl Flavor {
    pub(crate) fn new(krate: &CratePath, is_async: bool) -> Self {
        if is_async {
            Self {
                open: quote!(#krate::__private::async_opened),
                into_inner: quote!(#krate::__private::async_opened_into_inner),
                close_after: quote!(#krate::__private::async_close_after),
                wait: quote!(.await),
                is_async,
            }
        } else {
            Self {
                open: quote!(#krate::__private::opened),
                into_inner: quote!(#krate::__private::opened_into_inner),
                close_after: quote!(#krate::__private::close_after),
                wait: TokenStream::new(),
                is_async,
            }
        }
    }

    /// The check that the expression is a resource (`Resource` or `AsyncResource`).
    pub(crate) fn check(
        &self,
        krate: &CratePath,
        expr: &syn::Expr,
        ty: Option<&syn::Type>,
    ) -> TokenStream {
        if self.is_async {
            check_at("resource_async", krate, expr.span(), quote!(#expr), ty)
        } else {
            check_resource(krate, expr, ty)
        }
    }
}

/// `<krate>::__private::<check>(value)` (`::<ty>` with a type), the call spanned at `span`:
/// `check` is `resource` or `resource_async` (the check of the async twins). Every check of
/// one part uses the same span and type tokens, so a type that is not a resource gives
/// identical errors, which the compiler reports once.
pub(crate) fn check_at(
    check: &str,
    krate: &CratePath,
    span: Span,
    value: TokenStream,
    ty: Option<&syn::Type>,
) -> TokenStream {
    let check = syn::Ident::new(check, span);
    let check = match ty {
        Some(ty) => quote_spanned!(span=> #krate::__private::#check::<#ty>),
        None => quote_spanned!(span=> #krate::__private::#check),
    };
    quote!(#check(#value))
}
