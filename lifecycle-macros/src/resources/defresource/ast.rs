//! The input of `defresource!`: one or more `#[attrs] vis NAME: Type`, separated by `;`.

use crate::resources::options::{take_options, CratePath};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Token, Type, Visibility};

pub(crate) struct Input {
    pub(crate) places: Vec<Place>,
}

/// `#[attrs] vis NAME: Type`
pub(crate) struct Place {
    pub(crate) krate: CratePath,
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) ty: Type,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut places = Vec::new();
        while !input.is_empty() {
            places.push(input.parse()?);
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![;]) {
                return Err(input.error("expected `;` before the next resource"));
            }
            input.parse::<Token![;]>()?;
        }
        if places.is_empty() {
            return Err(input.error("expected a resource: `defresource!(pub NAME: Type)`"));
        }
        Ok(Self { places })
    }
}

impl Parse for Place {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut attrs = input.call(Attribute::parse_outer)?;
        let krate = take_options(&mut attrs)?;
        let vis = input.parse()?;
        if input.peek(Token![static]) {
            return Err(input.error(
                "write `defresource!(pub NAME: Type)` without `static`: the macro declares it",
            ));
        }
        let name: Ident = input.parse()?;
        if !input.peek(Token![:]) {
            return Err(input.error(format!(
                "expected `: Type` after `{name}`: write `defresource!({name}: Type)`"
            )));
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
            krate,
            attrs,
            vis,
            name,
            ty,
        })
    }
}
