//! The input of `defresource!`: an optional `crate = path;`, then one or more
//! `#[attrs] vis NAME: Type`, separated by `;`.

use crate::common::errors::Errors;
use crate::common::krate::{parse_crate_clause, CratePath};
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Token, Type, Visibility};

/// `(crate = path;)? place (; place)* ;?`
pub(crate) struct Input {
    pub(crate) krate: CratePath,
    /// Mistakes that did not stop the parse: a `crate = "string"`, a place with a syntax
    /// error (skipped, so the others are still declared).
    pub(crate) errors: Errors,
    pub(crate) places: Vec<Place>,
}

/// `#[attrs] vis NAME: Type`
pub(crate) struct Place {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) ty: Type,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut errors = Errors::new();
        let krate = parse_crate_clause(input, &mut errors)?;
        let mut places = Vec::new();
        let mut broken = false;
        while !input.is_empty() {
            // Each place on a fork: one with a syntax error is reported and skipped up to
            // its `;`, and the others are still declared.
            let fork = input.fork();
            let place = fork.parse::<Place>().and_then(|place| {
                if fork.is_empty() || fork.peek(Token![;]) {
                    Ok(place)
                } else {
                    Err(fork.error("expected `;` before the next resource"))
                }
            });
            match place {
                Ok(place) => {
                    input.advance_to(&fork);
                    places.push(place);
                }
                Err(error) => {
                    errors.push(error);
                    broken = true;
                    crate::common::recover::skip_past(input, ';');
                    continue;
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![;]>()?;
        }
        if places.is_empty() && !broken {
            return Err(input.error("expected a resource: `defresource!(pub NAME: Type)`"));
        }
        Ok(Self {
            krate,
            errors,
            places,
        })
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
