//! The input of `with_resources!` after its optional `crate = path;` (`common::block`):
//! `async`, the bindings and the body.
//!
//! Imports only `common` (`block`, `errors`); must not import `expand` or another macro's modules.

use crate::common::block::BlockGrammar;
use crate::common::errors::Errors;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Block, Expr, Ident, Token};

/// `async? [name = expr, ...] { body }`
pub(crate) struct Input {
    /// `async`: the resources' closes are awaited (`AsyncResource`); used in async code.
    pub(crate) asyncness: Option<Token![async]>,
    pub(crate) bindings: Vec<Binding>,
    pub(crate) body: Block,
}

/// `name = expr` (or `_ = expr`).
pub(crate) struct Binding {
    /// `None` for `_`: opened and closed, but not named.
    pub(crate) name: Option<Ident>,
    pub(crate) expr: Expr,
}

impl Binding {
    /// The name used in error messages: the binding's, or `_`.
    pub(crate) fn display_name(&self) -> String {
        self.name
            .as_ref()
            .map_or_else(|| "_".to_owned(), |name| name.unraw().to_string())
    }
}

const USAGE: &str = "expected `[name = expression, ...] { body }` (or `async [...] { body }`)";

impl BlockGrammar for Input {
    const END: &'static str = "the body";

    fn parse(input: ParseStream<'_>, _: &mut Errors) -> syn::Result<Self> {
        let asyncness = input.parse()?;
        if !input.peek(syn::token::Bracket) {
            return Err(input.error(USAGE));
        }
        let content;
        bracketed!(content in input);
        let bindings = Punctuated::<Binding, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        if !input.peek(syn::token::Brace) {
            return Err(input.error("expected the body `{ ... }` after the bindings"));
        }
        let body: Block = input.parse()?;
        Ok(Self {
            asyncness,
            bindings,
            body,
        })
    }
}

impl Parse for Binding {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        let name: Option<Ident> = if lookahead.peek(Token![_]) {
            input.parse::<Token![_]>()?;
            None
        } else if lookahead.peek(Ident) {
            Some(input.parse()?)
        } else {
            return Err(lookahead.error());
        };
        if !input.peek(Token![=]) || input.peek(Token![==]) {
            let shown = name
                .as_ref()
                .map_or_else(|| "_".to_owned(), ToString::to_string);
            let message = format!("expected `=` after `{shown}`: write `{shown} = expression`");
            return Err(if input.is_empty() {
                match &name {
                    Some(name) => syn::Error::new(name.span(), message),
                    None => input.error(message),
                }
            } else {
                input.error(message)
            });
        }
        input.parse::<Token![=]>()?;
        let expr = input.parse()?;
        Ok(Self { name, expr })
    }
}
