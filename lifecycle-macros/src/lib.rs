//! Procedural macros of the `lifecycle` crate. Use them through `lifecycle`, not directly.

use proc_macro::TokenStream;

/// A local state: `state!(expr)` or `state! { start: expr, stop: |v| ..., name: "..." }`.
#[proc_macro]
pub fn state(input: TokenStream) -> TokenStream {
    let expr = proc_macro2::TokenStream::from(input);
    quote::quote! {
        ::lifecycle::__private::local_state(
            ::lifecycle::__private::StateInfo::new(
                ::lifecycle::__private::concat!(::lifecycle::__private::module_path!(), "::<local>"),
                ::lifecycle::__private::module_path!(),
                ::lifecycle::__private::file!(),
                ::lifecycle::__private::line!(),
                &[],
            ),
            move || ::core::result::Result::Ok(#expr),
        )
    }
    .into()
}
