//! The one `crate = path` rule of every macro (`#[defstate(crate = lc)]`, `defstate! { crate =
//! lc; .. }`, `state! { crate: lc, .. }`, a leading `crate = lc;` in `with_resources!`,
//! `mk_system!` and `defresource!`, `#[lifecycle::main(crate = lc)]`): the value is a plain
//! path. A string (`crate = "lc"`) is an error that says to drop the quotes, and the path in
//! it is still used, so the rest of the expansion reports nothing more.
//!
//! Imports only `common`'s `errors`; must not import any macro's module (they are all built on
//! `common`).

use super::errors::Errors;
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::{Expr, LitStr, Path, Token};

/// The value of `crate` (after `sep`, `=` or `:`): a path to the `lifecycle` crate, like `::lifecycle` or `lc`.
pub(crate) fn parse_value(
    input: ParseStream,
    sep: &str,
    errors: &mut Errors,
) -> syn::Result<Option<Path>> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let path = lit.parse::<Path>().ok();
        let written = path.as_ref().map_or_else(
            || "lifecycle".to_owned(),
            |path| path.to_token_stream().to_string().replace(' ', ""),
        );
        errors.spanned(
            &lit,
            format!("`crate` takes a path, not a string: write `crate{sep} {written}`"),
        );
        return Ok(path);
    }
    let value: Expr = input.parse()?;
    if let Expr::Path(path) = &value {
        let plain = path.attrs.is_empty()
            && path.qself.is_none()
            && path
                .path
                .segments
                .iter()
                .all(|segment| segment.arguments.is_none());
        if plain {
            return Ok(Some(path.path.clone()));
        }
    }
    errors.spanned(
        &value,
        format!(
            "`crate` takes the path of the `lifecycle` crate, like `crate{sep} ::lifecycle` or \
             `crate{sep} my_reexports::lifecycle`"
        ),
    );
    Ok(None)
}

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
    let path = parse_value(input, " =", errors)?;
    if !input.peek(Token![;]) {
        return Err(input.error("expected `;` after `crate = path`"));
    }
    input.parse::<Token![;]>()?;
    Ok(path.map(CratePath).unwrap_or_default())
}

/// The arguments of an attribute whose only option is `crate = path` (`#[lifecycle::main]`,
/// `#[lifecycle::test]`).
pub(crate) struct CrateArgs {
    pub(crate) krate: CratePath,
}

impl CrateArgs {
    /// Parses the arguments; mistakes that leave them usable (`crate = "lc"`) go to `errors`.
    pub(crate) fn parse(args: proc_macro2::TokenStream, errors: &mut Errors) -> syn::Result<Self> {
        let krate =
            syn::parse::Parser::parse2(|input: ParseStream<'_>| parse_args(input, errors), args)?;
        Ok(Self { krate })
    }
}

/// Reads the arguments of `#[lifecycle::main(crate = path)]`.
fn parse_args(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<CratePath> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            if krate.is_some() {
                return Err(meta.error("`crate` is given twice; keep one"));
            }
            meta.input.parse::<Token![=]>()?;
            krate = Some(parse_value(meta.input, " =", errors)?);
            Ok(())
        } else {
            Err(meta.error("unknown option: the only option is `crate = path::to::lifecycle`"))
        }
    });
    syn::parse::Parser::parse2(parser, input.parse()?)?;
    Ok(krate.flatten().map(CratePath).unwrap_or_default())
}
