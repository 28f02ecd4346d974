//! The `crate = path` option, for a renamed `lifecycle` dependency: a leading `crate = path;`
//! clause in the function-like macros (as in `defstate! { ... }`), an argument of
//! `#[lifecycle::main(crate = path)]`, by the one rule of `common::krate`.

use crate::common::errors::Errors;
use crate::common::krate;
use syn::parse::ParseStream;
use syn::{Path, Token};

/// The path generated code names the runtime by: `::lifecycle` unless `crate = path` says.
pub(crate) struct CratePath(pub(crate) Path);

impl Default for CratePath {
    fn default() -> Self {
        Self(syn::parse_quote!(::lifecycle))
    }
}

impl quote::ToTokens for CratePath {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        self.0.to_tokens(tokens);
    }
}

/// Parses an optional leading `crate = path;`; a value that breaks the `crate` rule is
/// recorded in `errors` (see `common::krate`).
pub(crate) fn parse_crate_clause(
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<CratePath> {
    if !(input.peek(Token![crate]) && input.peek2(Token![=])) {
        return Ok(CratePath::default());
    }
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    let path = krate::parse_value(input, " =", errors)?;
    if !input.peek(Token![;]) {
        return Err(input.error("expected `;` after `crate = path`"));
    }
    input.parse::<Token![;]>()?;
    Ok(path.map(CratePath).unwrap_or_default())
}

/// Reads the arguments of `#[lifecycle::main(crate = path)]`.
pub(crate) fn parse_args(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<CratePath> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            if krate.is_some() {
                return Err(meta.error("`crate` is given twice; keep one"));
            }
            meta.input.parse::<Token![=]>()?;
            krate = Some(krate::parse_value(meta.input, " =", errors)?);
            Ok(())
        } else {
            Err(meta.error("unknown option: the only option is `crate = path::to::lifecycle`"))
        }
    });
    syn::parse::Parser::parse2(parser, input.parse()?)?;
    Ok(krate.flatten().map(CratePath).unwrap_or_default())
}
