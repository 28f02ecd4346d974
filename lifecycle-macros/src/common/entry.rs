//! The fallback contract every entry point follows (as tokio-macros' `entry.rs` does):
//!
//! * input that does not parse: the input unchanged, plus the error;
//! * input that parses but is invalid: the macro's fallback expansion (which declares what
//!   the user declared, without the faulty parts), plus every error;
//! * never an expansion that deletes the user's item, which would add "cannot find" errors
//!   to the one that matters.
//!
//! The two function attributes (`main`, `test`) also share their first step here: [`parse_attr`]
//! and [`AttrFn`].
//!
//! Imports only `common`'s `errors`; must not import any macro's module (they are all built on
//! `common`).

use super::errors::Errors;
use proc_macro2::TokenStream;

/// The errors, then `item` as it was written.
pub(crate) fn keep_item(errors: Errors, item: &TokenStream) -> TokenStream {
    let mut expanded = errors.into_tokens();
    expanded.extend(item.clone());
    expanded
}

/// The errors, then the fallback expansion `fallback`.
pub(crate) fn with_errors(errors: Errors, fallback: TokenStream) -> TokenStream {
    let mut expanded = errors.into_tokens();
    expanded.extend(fallback);
    expanded
}

/// An attribute's arguments (by `parse_args`) and its item `I`; if either does not parse,
/// `Err` holds what to emit: the item as written, next to every error.
pub(crate) fn parse_attr<A, I: syn::parse::Parse>(
    args: TokenStream,
    item: TokenStream,
    parse_args: impl FnOnce(TokenStream, &mut Errors) -> syn::Result<A>,
) -> Result<(A, I, Errors), TokenStream> {
    let mut errors = Errors::new();
    let args = parse_args(args, &mut errors);
    match (args, syn::parse2::<I>(item.clone())) {
        (Ok(args), Ok(parsed)) => Ok((args, parsed, errors)),
        (args, parsed) => {
            errors.extend(args.err());
            errors.extend(parsed.err());
            Err(keep_item(errors, &item))
        }
    }
}

/// What a function attribute says when its item is not a function: where it goes.
pub(crate) trait Expected {
    const EXPECTED: &'static str;
}

/// The function a function attribute (`main`, `test`) goes on; `E` names the attribute.
pub(crate) struct AttrFn<E> {
    pub(crate) item: syn::ItemFn,
    expected: std::marker::PhantomData<E>,
}

impl<E: Expected> syn::parse::Parse for AttrFn<E> {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let item = input
            .parse()
            .map_err(|error| syn::Error::new(error.span(), E::EXPECTED))?;
        Ok(Self {
            item,
            expected: std::marker::PhantomData,
        })
    }
}
