//! The code of `defresource!`: a `static` `Slot` over a hidden static state core.
//!
//! ```text
//! pub static SERVER: Slot<Server> = {
//!     static CORE: Core<Server> = slot_state_core(state_info("my_app::SERVER", ...));
//!     slot(&CORE)
//! };
//! ```
//!
//! Imports `common` (`block`, `entry`, `krate`) and its own `parse`; must not import another
//! macro's modules.

use super::parse::{Input, Place};
use crate::common::block::BlockInput;
use crate::common::krate::CratePath;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(input: BlockInput<Input>) -> syn::Result<TokenStream> {
    let BlockInput {
        krate,
        errors,
        grammar: Input { places },
    } = input;
    let places = places
        .iter()
        .map(|place| expand_place(&krate, place))
        .collect();
    Ok(crate::common::entry::with_errors(errors, places))
}

fn expand_place(krate: &CratePath, place: &Place) -> TokenStream {
    let Place {
        attrs,
        vis,
        name,
        ty,
    } = place;
    let name_str = syn::ext::IdentExt::unraw(name).to_string();
    // Spanned at the type, so a type that is not a `Send + Sync` resource is reported there.
    let slot_core = quote_spanned!(ty.span()=> #krate::__private::slot_state_core::<#ty>);
    quote! {
        #(#attrs)*
        #vis static #name: #krate::__private::Slot<#ty> = {
            static __LIFECYCLE_CORE: #krate::__private::Core<#ty> = #slot_core(
                #krate::__private::state_info(
                    #krate::__private::concat!(#krate::__private::module_path!(), "::", #name_str),
                    #krate::__private::module_path!(),
                    #krate::__private::file!(),
                    #krate::__private::line!(),
                    &[],
                ),
            );
            #krate::__private::slot(&__LIFECYCLE_CORE)
        };
    }
}
