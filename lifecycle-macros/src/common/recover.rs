//! Resuming after a syntax error, so that one mistake in a list (a state of `defstate!`, a
//! part of `mk_system!`) leaves the other items parsed and declared.
//!
//! Imports nothing from the crate.

use syn::parse::ParseStream;

/// Skips past the next top-level `separator` (or to the end).
pub(crate) fn skip_past(input: ParseStream, separator: char) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            if matches!(&tree, proc_macro2::TokenTree::Punct(p) if p.as_char() == separator) {
                break;
            }
        }
        Ok(((), rest))
    });
}
