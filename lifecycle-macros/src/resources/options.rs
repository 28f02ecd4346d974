//! The `#[lifecycle(crate = path)]` option, for a renamed `lifecycle` dependency.

use syn::parse::ParseStream;
use syn::{Attribute, Path, Token};

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

/// Removes every `#[lifecycle(...)]` attribute from `attrs` and reads its options.
pub(crate) fn take_options(attrs: &mut Vec<Attribute>) -> syn::Result<CratePath> {
    let mut krate = None;
    let mut errors: Option<syn::Error> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("lifecycle") {
            return true;
        }
        if let Err(error) = attr.parse_nested_meta(|meta| parse_option(&meta, &mut krate)) {
            combine(&mut errors, error);
        }
        false
    });
    match errors {
        Some(error) => Err(error),
        None => Ok(krate.map(CratePath).unwrap_or_default()),
    }
}

/// Reads the arguments of `#[lifecycle::main(crate = path)]`.
pub(crate) fn parse_args(input: ParseStream<'_>) -> syn::Result<CratePath> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| parse_option(&meta, &mut krate));
    syn::parse::Parser::parse2(parser, input.parse()?)?;
    Ok(krate.map(CratePath).unwrap_or_default())
}

fn parse_option(
    meta: &syn::meta::ParseNestedMeta<'_>,
    krate: &mut Option<Path>,
) -> syn::Result<()> {
    if meta.path.is_ident("crate") {
        if krate.is_some() {
            return Err(meta.error("`crate` is given twice"));
        }
        meta.input.parse::<Token![=]>()?;
        *krate = Some(meta.input.call(Path::parse_mod_style)?);
        Ok(())
    } else {
        Err(meta.error("unknown option: the only option is `crate = path::to::lifecycle`"))
    }
}

/// Adds `error` to the collected errors.
pub(crate) fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(errors) => errors.combine(error),
        None => *errors = Some(error),
    }
}
