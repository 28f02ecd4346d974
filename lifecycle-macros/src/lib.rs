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

// ---------------------------------------------------------------------------------------------
// Resources, systems and shutdown (issue 4): `with_resources!`, `mk_system!`, `defresource!`,
// `#[lifecycle::main]`. The implementations live in `resources/`; documented in the facade.
// ---------------------------------------------------------------------------------------------

mod resources;

/// Opens resources, runs a body, closes them in reverse order on every exit path.
#[proc_macro]
pub fn with_resources(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as resources::with_resources::Input);
    resources::with_resources::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A struct of named resources that start in order and close in reverse.
#[proc_macro]
pub fn mk_system(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as resources::system::Input);
    resources::system::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A global place for a resource: `defresource!(pub NAME: Type)`.
#[proc_macro]
pub fn defresource(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as resources::defresource::Input);
    resources::defresource::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Shutdown handling around `fn main`: SIGINT/SIGTERM, exit, and teardown when it ends.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(args as resources::main_attr::Args);
    let main = syn::parse_macro_input!(item as resources::main_attr::Main);
    resources::main_attr::expand(args, main)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
