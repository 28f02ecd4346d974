//! Expansion snapshots: each macro form expanded by the internal `expand` functions, printed
//! with `prettyplease`, compared with `src/snapshots/` by `insta`. A change of generated code
//! shows up as a snapshot diff to review (`cargo insta review`, or `INSTA_UPDATE=always`).
//!
//! Imports only `defstate`'s `expand` (a test module); no macro's module may import it.

use crate::defstate::expand;
use proc_macro2::TokenStream;
use quote::quote;

/// Prints items (a `#[defstate]` or `defstate!` expansion) as formatted Rust.
fn items(expanded: syn::Result<TokenStream>) -> String {
    let expanded = expanded.unwrap_or_else(syn::Error::into_compile_error);
    let file: syn::File = syn::parse2(expanded).expect("the expansion is a list of items");
    prettyplease::unparse(&file)
}

/// Prints an expression (a `state!` expansion) as the initializer of a `let`.
fn expression(expanded: syn::Result<TokenStream>) -> String {
    let expanded = expanded.unwrap_or_else(syn::Error::into_compile_error);
    items(Ok(quote! {
        fn user() {
            let state = #expanded;
        }
    }))
}

fn attr(args: TokenStream, item: TokenStream) -> String {
    items(expand::defstate_attr(args, item))
}

#[test]
fn defstate_without_options() {
    insta::assert_snapshot!(attr(
        quote!(),
        quote! {
            static CONFIG: Config = Config::load("config.toml")?;
        }
    ));
}

#[test]
fn defstate_with_every_option() {
    insta::assert_snapshot!(attr(
        quote!(
            stop = |db| db.close(),
            name = "db",
            meta(bucket = "storage", tier = "1"),
            reload
        ),
        quote! {
            /// The database.
            #[allow(dead_code)]
            pub(crate) static DB: Db = Db::open(&CONFIG.get().url)?;
        }
    ));
}

#[test]
fn defstate_supervised() {
    insta::assert_snapshot!(attr(
        quote!(
            supervise(backoff = "10ms..1s", max_restarts = 3, within = "30s"),
            check = |pool| pool.ping(),
            interval = "2s"
        ),
        quote!(
            static POOL: Pool = Pool::connect();
        ),
    ));
}

#[test]
fn defstate_supervised_async() {
    insta::assert_snapshot!(attr(
        quote!(
            supervise(backoff = "10ms..1s"),
            check = |server| server.ping()
        ),
        quote!(
            static SERVER: Server = async { Server::bind().await? };
        ),
    ));
}

#[test]
fn defstate_supervised_async_check() {
    insta::assert_snapshot!(attr(
        quote!(supervise, check = |link| async move { link.ping().await }),
        quote!(
            static LINK: Link = async { Link::open().await? };
        ),
    ));
}

#[test]
fn defstate_with_stop_path_and_crate() {
    let expanded = attr(
        quote!(stop = Server::shutdown, crate = lc),
        quote! {
            static SERVER: Server = Server::bind(8888)?;
        },
    );
    assert!(
        !expanded.contains(":: lifecycle") && !expanded.contains("::lifecycle"),
        "`crate = lc` must replace every `::lifecycle` path:\n{expanded}"
    );
    insta::assert_snapshot!(expanded);
}

#[test]
fn defstate_block_with_clauses() {
    insta::assert_snapshot!(items(expand::defstate_block(quote! {
        /// Configuration.
        pub static CONFIG: Config = Config::load()?;

        /// The database.
        static DB: Db = Db::open(&CONFIG.get().url)?;
        stop(db) => db.close();
        name = "db";
        meta(bucket = "storage");
    })));
}

#[test]
fn defstate_block_with_crate_and_stop_function() {
    let expanded = items(expand::defstate_block(quote! {
        crate = ::renamed;
        static CACHE: Cache = Cache::default();
        stop = Cache::flush;
    }));
    assert!(!expanded.contains("::lifecycle"), "{expanded}");
    insta::assert_snapshot!(expanded);
}

#[test]
fn state_expression() {
    insta::assert_snapshot!(expression(expand::state(quote!(41 + 1))));
}

#[test]
fn state_with_every_key() {
    insta::assert_snapshot!(expression(expand::state(quote! {
        start: open(&path)?,
        stop: |conn| conn.close(),
        name: "local",
        meta(kind = "connection"),
        reload,
    })));
}

#[test]
fn fallback_keeps_the_static_declared() {
    // An unknown option: one error, and `DB` is still a `State<Db>` for the code that uses it.
    insta::assert_snapshot!(attr(
        quote!(stpo = |db| db.close()),
        quote! {
            static DB: Db = Db::open()?;
        }
    ));
}

#[test]
fn defstate_async_with_stop_closure() {
    insta::assert_snapshot!(attr(
        quote!(
            stop = |client| async move { client.close().await },
            name = "client"
        ),
        quote! {
            /// A client started asynchronously.
            pub static CLIENT: Client = async { Client::connect(&CONFIG.get().url).await? };
        }
    ));
}

/// A plain closure as an async state's stop: the same expansion, the returned `()` picked
/// by `PlainStopKind` at compile time.
#[test]
fn defstate_async_with_plain_stop_closure() {
    insta::assert_snapshot!(attr(
        quote!(stop = |client| log(client)),
        quote! {
            static CLIENT: Client = async { Client::connect().await };
        }
    ));
}

#[test]
fn defstate_block_async_with_stop_clause() {
    insta::assert_snapshot!(items(expand::defstate_block(quote! {
        static POOL: Pool = async move { Pool::open().await? };
        stop(pool) => pool.close().await;
        meta(bucket = "storage");
    })));
}

#[test]
fn state_async_with_stop() {
    insta::assert_snapshot!(expression(expand::state(quote! {
        start: async { connect().await? },
        stop: |conn| async move { conn.close().await },
        name: "conn",
    })));
}

#[test]
fn fallback_of_an_async_state_keeps_it_async() {
    // An unknown option: one error, and `CLIENT` is still an `AsyncState<Client>`, so
    // `CLIENT.get().await` in the code that uses it type-checks.
    insta::assert_snapshot!(attr(
        quote!(stpo = |client| client.close()),
        quote! {
            static CLIENT: Client = async { Client::connect().await };
        }
    ));
}

#[test]
fn fallback_of_state_is_an_error_expression() {
    insta::assert_snapshot!(expression(expand::state(quote! {
        strat: 1,
    })));
}

/// The expansion shown in `docs/how-it-works.md` (the README's "How it works").
fn how_it_works_expansion() -> String {
    attr(
        quote!(stop = |db| db.close()),
        quote! {
            /// The database, opened on first use.
            pub static DB: Db = Db::open(&CONFIG.get().url)?;
        },
    )
}

#[test]
fn how_it_works() {
    insta::assert_snapshot!(how_it_works_expansion());
}

#[test]
fn how_it_works_shows_the_real_expansion() {
    let doc = include_str!("../../docs/how-it-works.md");
    assert!(
        doc.contains(how_it_works_expansion().trim_end()),
        "docs/how-it-works.md must show the expansion of its example as generated now; \
         paste it from src/snapshots/lifecycle_macros__tests__how_it_works.snap"
    );
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(doc.trim_end()),
        "README.md's \"How it works\" must be docs/how-it-works.md as it is now; paste it"
    );
}
