//! The lists of every macro's grammar: entries separated by a punctuation (a trailing one
//! allowed), read either strictly ([`comma_separated`]: the first syntax error ends the list)
//! or with recovery ([`parse_each`]: an entry with a syntax error is reported and skipped,
//! so the others are still declared).
//!
//! Imports only `common`'s `errors` and `recover`; must not import any macro's module (they are all
//! built on `common`).

use super::errors::Errors;
use super::recover::skip_past;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::Token;

/// `entry, entry, ...` up to the end of `input`, a trailing `,` allowed: `entry` reads one
/// entry each time; its error, or a missing `,`, ends the list.
pub(crate) fn comma_separated(
    input: ParseStream,
    mut entry: impl FnMut(ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        entry(input)?;
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Every `T` up to the end of `input`, separated by the punctuation `separator` (a trailing
/// one allowed). Each is parsed on a fork: one with a syntax error, or not followed by
/// `separator` (the error `missing_separator` words), is recorded in `errors` and skipped
/// past the next top-level `separator`, and the others are kept. Returns the entries kept
/// and whether one was skipped.
pub(crate) fn parse_each<T: Parse>(
    input: ParseStream,
    separator: char,
    errors: &mut Errors,
    missing_separator: impl Fn(&T) -> String,
) -> (Vec<T>, bool) {
    let at_separator = |input: ParseStream| {
        input
            .cursor()
            .punct()
            .is_some_and(|(punct, _)| punct.as_char() == separator)
    };
    let mut entries = Vec::new();
    let mut skipped = false;
    while !input.is_empty() {
        let fork = input.fork();
        let entry = fork.parse::<T>().and_then(|entry| {
            if fork.is_empty() || at_separator(&fork) {
                Ok(entry)
            } else {
                Err(fork.error(missing_separator(&entry)))
            }
        });
        match entry {
            Ok(entry) => {
                input.advance_to(&fork);
                entries.push(entry);
            }
            Err(error) => {
                errors.push(error);
                skipped = true;
                skip_past(input, separator);
                continue;
            }
        }
        if input.is_empty() {
            break;
        }
        // The separator the fork saw.
        let _ = input.parse::<proc_macro2::Punct>();
    }
    (entries, skipped)
}
