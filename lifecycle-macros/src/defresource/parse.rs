//! The input of `defresource!`: an optional `crate = path;` (`common::block`), then one or
//! more `#[attrs] vis NAME: Type`, separated by `;`.
//!
//! Imports only `common` (`block`, `errors`, `list`); must not import `expand` or another macro's
//! modules.

use crate::common::block::BlockGrammar;
use crate::common::errors::Errors;
use crate::common::list::parse_each;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Token, Type, Visibility};

/// `place (; place)* ;?`; a place with a syntax error is recorded and skipped, so the others
/// are still declared.
pub(crate) struct Input {
    pub(crate) places: Vec<Place>,
}

/// `#[attrs] vis NAME: Type`
pub(crate) struct Place {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) ty: Type,
}

impl BlockGrammar for Input {
    const END: &'static str = "the resources";

    fn parse(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Self> {
        // One place with a syntax error is reported and skipped up to its `;`, and the
        // others are still declared.
        let (places, broken) = parse_each(input, ';', errors, |_: &Place| {
            "expected `;` before the next resource".to_owned()
        });
        if places.is_empty() && !broken {
            return Err(input.error("expected a resource: `defresource!(pub NAME: Type)`"));
        }
        Ok(Self { places })
    }
}

impl Parse for Place {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        if input.peek(Token![static]) {
            return Err(input.error(
                "write `defresource!(pub NAME: Type)` without `static`: the macro declares it",
            ));
        }
        let name: Ident = input.parse()?;
        if !input.peek(Token![:]) {
            let message =
                format!("expected `: Type` after `{name}`: write `defresource!({name}: Type)`");
            return Err(if input.is_empty() {
                syn::Error::new(name.span(), message)
            } else {
                input.error(message)
            });
        }
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        if input.peek(Token![=]) {
            return Err(input.error(format!(
                "a resource place has no initializer: define its value at run time with \
                 `{name}.define(|| ...)`"
            )));
        }
        Ok(Self {
            attrs,
            vis,
            name,
            ty,
        })
    }
}
