//! The `crate = path` option, for a renamed `lifecycle` dependency: a leading `crate = path;`
//! clause in the function-like macros (as in `defstate! { ... }`), an argument of
//! `#[lifecycle::main(crate = path)]`. The path may also be written as a string.

use syn::parse::ParseStream;
use syn::{LitStr, Path, Token};

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

/// Parses an optional leading `crate = path;`.
pub(crate) fn parse_crate_clause(input: ParseStream<'_>) -> syn::Result<CratePath> {
    if !(input.peek(Token![crate]) && input.peek2(Token![=])) {
        return Ok(CratePath::default());
    }
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    let path = parse_path(input)?;
    if !input.peek(Token![;]) {
        return Err(input.error("expected `;` after `crate = path`"));
    }
    input.parse::<Token![;]>()?;
    Ok(CratePath(path))
}

/// Reads the arguments of `#[lifecycle::main(crate = path)]`.
pub(crate) fn parse_args(input: ParseStream<'_>) -> syn::Result<CratePath> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            if krate.is_some() {
                return Err(meta.error("`crate` is given twice"));
            }
            meta.input.parse::<Token![=]>()?;
            krate = Some(parse_path(meta.input)?);
            Ok(())
        } else {
            Err(meta.error("unknown option: the only option is `crate = path::to::lifecycle`"))
        }
    });
    syn::parse::Parser::parse2(parser, input.parse()?)?;
    Ok(krate.map(CratePath).unwrap_or_default())
}

/// A path, or a string holding one.
fn parse_path(input: ParseStream<'_>) -> syn::Result<Path> {
    if input.peek(LitStr) {
        let text: LitStr = input.parse()?;
        return text.parse_with(Path::parse_mod_style);
    }
    input.call(Path::parse_mod_style).map_err(|error| {
        syn::Error::new(
            error.span(),
            "expected the path of the `lifecycle` crate, e.g. `crate = ::lifecycle`",
        )
    })
}

/// Adds `error` to the collected errors.
pub(crate) fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(errors) => errors.combine(error),
        None => *errors = Some(error),
    }
}
