//! The one `crate = path` rule of every macro (`#[defstate(crate = lc)]`, `defstate! { crate =
//! lc; .. }`, `state! { crate: lc, .. }`, a leading `crate = lc;` in `with_resources!`,
//! `mk_system!` and `defresource!`, `#[lifecycle::main(crate = lc)]`): the value is a plain
//! path. A string (`crate = "lc"`) is an error that says to drop the quotes, and the path in
//! it is still used, so the rest of the expansion reports nothing more.
//!
//! Imports only `errors`.

use super::errors::Errors;
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::{Expr, LitStr, Path};

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
