//! Span helpers of every macro: generated tokens placed on the user's tokens (so that a type
//! error is shown there), and names user code cannot see.
//!
//! Imports nothing from the crate.

use proc_macro2::{Span, TokenStream, TokenTree};

/// `(tokens)` with the parentheses placed at `at`.
pub(crate) fn parenthesized(tokens: TokenStream, at: Span) -> TokenStream {
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, tokens);
    group.set_span(Span::call_site().located_at(at));
    TokenTree::Group(group).into()
}

/// `tokens` moved to `span`'s place (keeping their hygiene), so that an error about them is
/// shown on the user's token (a stop closure) instead of on the macro.
pub(crate) fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(group.span().located_at(span));
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(tree.span().located_at(span));
            }
            tree
        })
        .collect()
}

/// A name for generated locals and labels that user code cannot see or clash with.
pub(crate) fn hidden(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}
