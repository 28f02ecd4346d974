//! Expansion snapshots of the resource macros and the function attributes
//! (`src/snapshots/lifecycle_macros__resource_tests__*`), printed with `prettyplease`: a change
//! of generated code shows up as a diff to review
//! (`cargo insta review`, or `INSTA_UPDATE=always`). They double as documentation of what
//! each macro writes.
//!
//! Imports the entry points and `expand` functions of `defresource`, `main_attr`, `mk_system`,
//! `test_attr` and `with_resources` (a test module); no macro's module may import it.

use proc_macro2::TokenStream;
use quote::quote;

fn items(expanded: syn::Result<TokenStream>) -> String {
    let expanded = expanded.unwrap_or_else(syn::Error::into_compile_error);
    let file: syn::File = syn::parse2(expanded).expect("the expansion is a list of items");
    prettyplease::unparse(&file)
}

fn with_resources(input: TokenStream) -> String {
    let input = syn::parse2(input).expect("valid input");
    let expanded = crate::with_resources::expand(input);
    let expanded = expanded.unwrap_or_else(syn::Error::into_compile_error);
    items(Ok(quote! {
        fn user() {
            let result = #expanded;
        }
    }))
}

#[test]
fn with_resources_plain_and_fallible_bindings() {
    insta::assert_snapshot!(with_resources(quote! {
        [db = open_db()?, handler = Handler::new(&db)] {
            handler.handle(request)
        }
    }));
}

#[test]
fn mk_system_with_parameters_and_a_fallible_part() {
    let input = syn::parse2(quote! {
        /// The application.
        pub struct App(port: u16) {
            pub db: Db = Db::open()?,
            server: Server = Server::start(port, &db)?,
        }
    })
    .expect("valid input");
    insta::assert_snapshot!(items(crate::mk_system::expand(input)));
}

#[test]
fn defresource_with_crate_path() {
    let input = syn::parse2(quote! {
        crate = ::lc;
        /// The running server.
        pub SERVER: Server
    })
    .expect("valid input");
    insta::assert_snapshot!(items(crate::defresource::expand(input)));
}

#[test]
fn main_returning_result() {
    let main = quote! {
        fn main() -> Result<(), lifecycle::Error> {
            run()?;
            Ok(())
        }
    };
    insta::assert_snapshot!(items(Ok(crate::main_attr::entry(quote!(), main))));
}

#[test]
fn test_attribute_sync_and_async() {
    let sync = quote! {
        /// Reads a private port.
        fn reads_the_port() -> Result<(), lifecycle::Error> {
            let _port = PORT.bind(0);
            assert_eq!(*URL.try_get()?, "http://localhost:0");
            Ok(())
        }
    };
    let asynchronous = quote! {
        #[tokio::test]
        async fn reads_the_session() {
            SESSION.get().await;
        }
    };
    let mut both = crate::test_attr::entry(quote!(), sync);
    both.extend(crate::test_attr::entry(quote!(), asynchronous));
    insta::assert_snapshot!(items(Ok(both)));
}

#[test]
fn with_resources_async_awaits_every_close() {
    insta::assert_snapshot!(with_resources(quote! {
        async [pool = Pool::connect().await?, server = Server::start(&pool).await?] {
            server.serve().await
        }
    }));
}

#[test]
fn mk_system_async_struct() {
    let input = syn::parse2(quote! {
        /// The application, started asynchronously.
        pub async struct App(port: u16) {
            pub pool: Pool = Pool::connect().await?,
            server: Server = Server::start(port, &pool).await?,
        }
    })
    .expect("valid input");
    insta::assert_snapshot!(items(crate::mk_system::expand(input)));
}
