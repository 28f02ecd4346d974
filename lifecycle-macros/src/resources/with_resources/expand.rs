//! The code of `with_resources!`: nested scopes, one per binding, each closing its resource
//! after the scopes inside it.
//!
//! ```text
//! ::lifecycle::__private::Outcome::finish({                  // Result<Body, Error>
//!     let mut part_0 = Part::new("db", resource(open_db()));   // `?` → opening fails
//!     let db = Part::get_mut(&mut part_0);
//!     let inner = { /* the next binding, then */ Outcome::ok({ body }) };
//!     Part::close_after(part_0, inner)                         // close db, keep errors
//! })
//! ```
//!
//! A part left by a panic (or a `return`/`break` out of the body) closes when it drops, in
//! reverse order; the panic then goes on.

use super::ast::{Binding, Input};
use crate::resources::options::CratePath;
use crate::resources::try_rewrite;
use crate::resources::{check_resource, hidden};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Lifetime, LitStr};

pub(crate) fn expand(input: Input) -> syn::Result<TokenStream> {
    let Input {
        krate,
        bindings,
        body,
    } = input;
    // The body's statements go in braces of ours: a single-expression body in the user's
    // own braces would draw `unused_braces`. If the body diverges (a `panic!`), the code
    // after it is unreachable by design; the first unreachable statement is ours and allows
    // it, which keeps the lint quiet for the rest of the expansion.
    let stmts = &body.stmts;
    let value = hidden("__lifecycle_value");
    let outcome = hidden("__lifecycle_outcome");
    let innermost = quote! {{
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
            scope(&krate, at, binding, inner)
        });
    Ok(quote! {
        #krate::__private::Outcome::finish(#nested)
    })
}

/// The scope of one binding around `inner` (the later bindings and the body).
fn scope(krate: &CratePath, at: usize, binding: Binding, inner: TokenStream) -> TokenStream {
    let name = LitStr::new(&binding.display_name(), binding.expr.span());
    let part = hidden(&format!("__lifecycle_part_{at}"));
    let inner_outcome = hidden("__lifecycle_inner");
    let bind = binding
        .name
        .as_ref()
        .map(|ident| quote!(let #ident = #krate::__private::Part::get_mut(&mut #part);));
    let use_part = quote! {
        #bind
        let #inner_outcome = #inner;
        #krate::__private::Part::close_after(#part, #inner_outcome)
    };
    let mut expr = binding.expr;
    let label = Lifetime::new("'__lifecycle_open", Span::mixed_site());
    let fallible = try_rewrite::rewrite(&mut expr, &label, krate);
    let checked = check_resource(krate, &expr, None);
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
                    let mut #part = #krate::__private::Part::new(#name, #value);
                    #use_part
                }
                ::core::result::Result::Err(#error) => #krate::__private::Outcome::failed(
                    #krate::__private::open_failed(#name, #error),
                ),
            }
        }}
    } else {
        quote! {{
            let mut #part = #krate::__private::Part::new(#name, #checked);
            #use_part
        }}
    }
}
