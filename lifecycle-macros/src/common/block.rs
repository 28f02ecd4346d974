//! The frame of the block macros' input (`with_resources!`, `mk_system!`, `defresource!`): an
//! optional leading `crate = path;` (by the rule of `krate`), the macro's own grammar, and
//! nothing after it. The mistakes that do not stop the parse (a `crate = "string"`, those
//! the grammar records) are kept for the expansion to report next to its code.
//!
//! Imports only `common`'s `errors` and `krate`; must not import any macro's module (they are all
//! built on `common`).

use super::errors::Errors;
use super::krate::{parse_crate_clause, CratePath};
use syn::parse::{Parse, ParseStream};

/// A block macro's grammar, after the `crate = path;` clause.
pub(crate) trait BlockGrammar: Sized {
    /// What the input ends with, in the error on tokens after it: "the system".
    const END: &'static str;

    /// Parses the grammar; a mistake that leaves the input usable goes to `errors`.
    fn parse(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Self>;
}

/// `(crate = path;)? grammar`
pub(crate) struct BlockInput<T> {
    pub(crate) krate: CratePath,
    /// Mistakes that did not stop the parse.
    pub(crate) errors: Errors,
    pub(crate) grammar: T,
}

impl<T: BlockGrammar> Parse for BlockInput<T> {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut errors = Errors::new();
        let krate = parse_crate_clause(input, &mut errors)?;
        let grammar = T::parse(input, &mut errors)?;
        if !input.is_empty() {
            return Err(input.error(format!("unexpected tokens after {}", T::END)));
        }
        Ok(Self {
            krate,
            errors,
            grammar,
        })
    }
}
