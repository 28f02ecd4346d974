//! The input of `mk_system!` after its optional `crate = path;` (`common::block`), parsed
//! leniently: a part without a type or an initializer is kept (with `None`) so `valid` can
//! say exactly what is missing.
//!
//! Imports only `common` (`block`, `errors`, `list`); must not import `valid`, `expand` or another
//! macro's modules.

use crate::common::block::BlockGrammar;
use crate::common::errors::Errors;
use crate::common::list::parse_each;
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Attribute, Expr, Ident, Token, Type, Visibility};

/// `#[attrs] vis async? struct Name(params) { parts }`; a part with a syntax error is
/// recorded and skipped up to its `,`, so the other parts are still declared.
pub(crate) struct Input {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// `async struct`: `start` and `close` are `async`, parts are `AsyncResource`s.
    pub(crate) asyncness: Option<Token![async]>,
    pub(crate) name: Ident,
    pub(crate) params: Vec<Param>,
    pub(crate) parts: Vec<PartDef>,
}

/// `mut? name: Type`, a parameter of `start`.
pub(crate) struct Param {
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) name: Ident,
    pub(crate) ty: Type,
}

/// `#[doc] vis name: Type = expr`
pub(crate) struct PartDef {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) ty: Option<Type>,
    pub(crate) init: Option<Expr>,
    /// Where the missing piece (type or initializer) belongs.
    pub(crate) end: Span,
}

impl BlockGrammar for Input {
    const END: &'static str = "the system";

    fn parse(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let asyncness = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error(
                "expected `struct`: write `mk_system! { pub struct Name(params) { part: Type = \
                 expression, ... } }`",
            ));
        }
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        if input.peek(Token![<]) {
            return Err(input.error("a system cannot have generic parameters"));
        }
        let params = if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            Punctuated::<Param, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        if input.peek(Token![where]) {
            return Err(input.error("a system cannot have a `where` clause"));
        }
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected the parts of `{name}` in braces: `{{ part: Type = expression, ... }}`"
            )));
        }
        let content;
        braced!(content in input);
        let parts = parse_parts(&content, errors);
        Ok(Self {
            attrs,
            vis,
            asyncness,
            name,
            params,
            parts,
        })
    }
}

/// The parts, each parsed on its own: one with a syntax error is reported and skipped up to
/// the next top-level `,`, and the others are kept.
fn parse_parts(content: ParseStream<'_>, errors: &mut Errors) -> Vec<PartDef> {
    let (parts, _) = parse_each(content, ',', errors, |part: &PartDef| {
        format!("expected `,` after the part `{}`", part.name)
    });
    parts
}

impl Parse for Param {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mutability = input.parse()?;
        let name: Ident = input.parse()?;
        if !input.peek(Token![:]) {
            return Err(input.error(format!(
                "expected `: Type` after the parameter `{name}`: write `{name}: Type`"
            )));
        }
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        Ok(Self {
            mutability,
            name,
            ty,
        })
    }
}

impl Parse for PartDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let name: Ident = input.parse()?;
        let lookahead = input.lookahead1();
        let ty = if lookahead.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            Some(input.parse()?)
        } else if lookahead.peek(Token![=]) || lookahead.peek(Token![,]) || input.is_empty() {
            None
        } else {
            return Err(lookahead.error());
        };
        let end = input.span();
        let init = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else if input.peek(Token![,]) || input.is_empty() {
            None
        } else {
            return Err(input.error(format!(
                "expected `= expression` or `,` after the type of `{name}`"
            )));
        };
        Ok(Self {
            attrs,
            vis,
            name,
            ty,
            init,
            end,
        })
    }
}
