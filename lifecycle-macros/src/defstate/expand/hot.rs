//! Feature `hot` (enabled by `lifecycle`'s `hot` feature): each state's info gets a
//! fingerprint function, a hash of the tokens of its start and stop expressions.
//!
//! After a hot patch `lifecycle` calls the function through the patch's jump table: the
//! patched version answers the new hash, so a state whose start or stop tokens changed is
//! told from the others, although `subsecond`'s table lists every function of the rebuilt
//! crate (see `docs/hot-reload.md`). Without the feature nothing is generated.
//!
//! Imports only `defstate`'s `ast`; must not import another macro's modules.

#[cfg(feature = "hot")]
use crate::defstate::ast::Stop;
use crate::defstate::ast::{Init, Options};
use proc_macro2::TokenStream;

/// `info` with the state's fingerprint function (feature `hot`), or `info` as it is.
#[cfg_attr(not(feature = "hot"), allow(unused_variables))]
pub(crate) fn with_fingerprint(
    private: &TokenStream,
    info: TokenStream,
    init: Option<&Init>,
    options: &Options,
) -> TokenStream {
    #[cfg(feature = "hot")]
    {
        let hash = fingerprint(init, options.stop.as_ref());
        let function = quote::format_ident!(
            "__lifecycle_fingerprint",
            span = proc_macro2::Span::mixed_site()
        );
        quote::quote! {
            #private::fingerprinted(#info, {
                fn #function() -> u64 {
                    #hash
                }
                #function
            })
        }
    }
    #[cfg(not(feature = "hot"))]
    info
}

/// The hash of the start and stop tokens as written (spans, so moves of the code, do not
/// count; `DefaultHasher::new` has fixed keys, so one compiler gives one hash).
#[cfg(feature = "hot")]
fn fingerprint(init: Option<&Init>, stop: Option<&Stop>) -> u64 {
    use quote::ToTokens;
    use std::hash::{Hash, Hasher};
    let start = match init {
        Some(Init::Expr(expr)) => expr.to_token_stream(),
        Some(Init::Async(block)) => block.to_token_stream(),
        Some(Init::Unusable) | None => TokenStream::new(),
    };
    let stop = match stop {
        Some(Stop::Function(function)) => function.to_token_stream(),
        Some(Stop::Binding { pat, body }) => quote::quote!(#pat => #body),
        None => TokenStream::new(),
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (start.to_string(), stop.to_string()).hash(&mut hasher);
    hasher.finish()
}

#[cfg(all(test, feature = "hot"))]
mod tests {
    use super::fingerprint;
    use crate::defstate::ast::{Init, Stop};

    fn expr(text: &str) -> syn::Expr {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn the_hash_follows_the_start_and_stop_tokens_only() {
        let start = |text| Init::Expr(expr(text));
        let stop = Stop::Function(expr("|v| drop(v)"));
        let base = fingerprint(Some(&start("1 + 2")), Some(&stop));
        assert_eq!(base, fingerprint(Some(&start("1  +\n 2")), Some(&stop)));
        assert_ne!(base, fingerprint(Some(&start("1 + 3")), Some(&stop)));
        assert_ne!(base, fingerprint(Some(&start("1 + 2")), None));
    }
}
