//! **The procedural macros of [`lifecycle`](https://docs.rs/lifecycle): `#[defstate]`,
//! `defstate! { ... }` and `state!`.** Use them through `lifecycle`, which re-exports them
//! (`lifecycle::prelude::*`, `lifecycle::decl::defstate!`), never from this crate directly.
//!
//! # How it is built
//!
//! Each entry point below only converts between `proc_macro` and `proc_macro2` and turns a
//! fatal error into `compile_error!`; each macro lives in its own module, in phases
//! (`parse` → `valid` → `expand`, plus a fallback), on one shared layer. Modules import
//! downwards only: a macro's module names `common`, never another macro's.
//!
//! * `defstate` — `#[defstate]`, `defstate! { ... }` and `state!`, which share one model
//!   (`ast`), one option parser (`parse`), `valid`, `expand` and `fallback`.
//! * `with_resources`, `mk_system`, `defresource`, `main_attr` (`#[lifecycle::main]`),
//!   `test_attr` (`#[lifecycle::test]`) — one module each, `parse` / `valid` / `expand`.
//! * `common` — what every macro shares: the error accumulator and "did you mean"
//!   (`errors`), the one `crate = path` rule (`krate`), span helpers (`span`), recovery
//!   after a syntax error (`recover`), the fallback contract (`entry`), and the resource
//!   macros' runtime names and `?` rewrite (`resource`, `try_rewrite`).
//!
//! Imports only its own modules (each macro's entry point, and `common::entry`); no module
//! may import the crate root.
//!
//! # Dependencies
//!
//! * `syn` — parses the input. Only the features used: `full` (statics, expressions,
//!   closures, patterns), `parsing`, `printing` (re-emit the user's tokens), `proc-macro`,
//!   `clone-impls` (the fallback copies parts of the model). No `extra-traits` or `visit`,
//!   which cost compile time. It is syn 3 because `thiserror` (a dependency of the runtime)
//!   builds syn 3: a user's build compiles one syn, not two.
//! * `quote` — writes the expansion as Rust with interpolation; `quote_spanned!` puts type
//!   errors on the user's tokens.
//! * `proc-macro2` — token types usable outside a compiler session, so `expand` is a plain
//!   function the snapshot tests call.
//! * dev: `insta` + `prettyplease` — expansion snapshots (`src/snapshots/`), reviewed in
//!   the diff when generation changes; `lifecycle` — runs the examples below.

mod common;
mod defresource;
mod defstate;
mod main_attr;
mod mk_system;
mod test_attr;
mod with_resources;

#[cfg(test)]
mod resource_tests;
// The snapshots are the expansion without `hot`; with it each state's info is also wrapped
// in `__private::fingerprinted` (see `defstate/expand/hot.rs` and its test).
#[cfg(all(test, not(feature = "hot")))]
mod tests;

use proc_macro::TokenStream;

/// The expansion, or the error that stopped it as `compile_error!` (each macro emits its
/// fallback itself where there is something to keep; see `common::entry`).
fn emit(expanded: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    expanded
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares a static state: a `static` that starts lazily on first use, is tracked, can be
/// stopped and started again, and is listed by `lifecycle::declared()`.
///
/// ```
/// use lifecycle::prelude::*;
///
/// # #[derive(Debug)] struct Db { url: String }
/// # impl Db {
/// #     fn open(url: &str) -> std::io::Result<Db> { Ok(Db { url: url.to_owned() }) }
/// #     fn close(self) -> std::io::Result<()> { Ok(()) }
/// # }
/// #[defstate]
/// static URL: String = std::env::var("APP_DB_URL").unwrap_or("sqlite::memory:".to_owned());
///
/// /// The database: opened on first use, closed by `lifecycle::stop()`.
/// #[defstate(stop = |db| db.close(), name = "db", meta(bucket = "storage"))]
/// pub static DB: Db = Db::open(&URL.get())?;
///
/// assert!(!DB.is_realized());
/// assert_eq!(DB.get().url, "sqlite::memory:"); // starts URL, then DB
/// assert_eq!(DB.name(), "db");
/// assert_eq!(DB.meta("bucket"), Some("storage"));
/// assert!(URL.name().ends_with("::URL")); // "<module path>::URL" by default
/// lifecycle::stop().unwrap(); // DB first, then URL
/// assert!(!DB.is_realized());
/// ```
///
/// # Options
///
/// * `stop = |value| ...` or `stop = path::to::function` — gets the value by value when the
///   state stops; returns `()` or `Result<(), E>` for any error `E`. Without it, stopping
///   drops the value.
///
///   ```
///   # use lifecycle::prelude::*;
///   fn flush(lines: Vec<String>) -> Result<(), std::fmt::Error> {
///       println!("{} lines", lines.len());
///       Ok(())
///   }
///   #[defstate(stop = flush)]
///   static LOG: Vec<String> = vec!["started".to_owned()];
///   # assert_eq!(LOG.get().len(), 1);
///   # LOG.stop().unwrap();
///   ```
/// * `name = "..."` — the state's name in `status()`, errors and events; by default
///   `"<module path>::<STATIC>"`.
/// * `meta(key = "value", ...)` — string pairs read with `State::meta`, for example to stop
///   a bucket of states with `lifecycle::stop_where`.
///
///   ```
///   # use lifecycle::prelude::*;
///   #[defstate(name = "web/port", meta(bucket = "web", owner = "ops"))]
///   static PORT: u16 = 8080;
///   assert_eq!(PORT.name(), "web/port");
///   assert_eq!(PORT.meta("owner"), Some("ops"));
///   ```
/// * `reload` — a flag (no value): `lifecycle::reload()`, and SIGHUP under
///   `#[lifecycle::main]`, reload the state — its new value starts beside the old one and is
///   swapped in only if that start succeeds (see `State::reload`).
///
///   ```
///   # use lifecycle::prelude::*;
///   #[defstate(reload, name = "doc/reload/port")]
///   static PORT: u16 = 8080;
///   assert!(PORT.info().is_reloadable());
///   PORT.get();
///   assert!(lifecycle::reload().is_ok());
///   assert_eq!(*PORT.get(), 8080);
///   ```
/// * `crate = path` — where the `lifecycle` crate is when it is renamed or re-exported.
///
///   ```
///   extern crate lifecycle as lc;
///   #[lc::defstate(crate = lc)]
///   static ANSWER: u32 = 42;
///   # fn main() { assert_eq!(*ANSWER.get(), 42); }
///   ```
///
/// # Details
///
/// * The initializer is the start function's body: it runs on first `get`, may use `?`
///   (errors convert into `lifecycle::BoxError`), and may read other states, which records
///   the dependency.
/// * Doc comments, attributes and visibility carry over to the generated `static`, whose type
///   is `State<T>`.
/// * `file` and `line` in `StateInfo` are those of the static's name.
/// * Not accepted, with an error that says what to write instead: `static mut`, `const`,
///   generics, a missing type, `_` as the type, a stop that is a call (`stop = db.close()`).
/// * An `async { ... }` initializer makes an async state: the static is an
///   `lifecycle::AsyncState<T>`, read with `.get().await`; the block may use `?` and `.await`
///   and must be `Send` (do not hold a sync state's `Ref` across an `.await`; use
///   `get_owned()`). Its stop function may return a future (`stop = |value| async move {
///   ... }`) or, like a sync state's, `()` or `Result<(), E>` (`stop = |value| log(value)`,
///   or a function's path); in `defstate!`, `stop(value) => body;` may `.await`.
///   `lifecycle::stop_async().await` stops it together with sync states.
///
///   ```
///   # use lifecycle::prelude::*;
///   # async fn connect(url: &str) -> std::io::Result<String> { Ok(format!("conn to {url}")) }
///   #[defstate]
///   static URL: String = String::from("tcp://db");
///
///   #[defstate(stop = |conn| async move { println!("closing {conn}") })]
///   static CONN: String = async {
///       let url = URL.get().clone();
///       connect(&url).await?
///   };
///
///   // A plain closure (or a function's path) is a stop too.
///   #[defstate(stop = |hits| println!("{hits} hits"))]
///   static HITS: u32 = async { 0 };
///   # lifecycle::__private::block_on(async {
///   assert_eq!(*HITS.get().await, 0);
///   assert_eq!(CONN.get().await.as_str(), "conn to tcp://db");
///   lifecycle::stop_async().await.unwrap(); // CONN first, then URL
///   # });
///   ```
#[proc_macro_attribute]
pub fn defstate(args: TokenStream, item: TokenStream) -> TokenStream {
    emit(defstate::expand::defstate_attr(args.into(), item.into()))
}

/// Declares static states, like `#[defstate]`, in a block: `lifecycle::decl::defstate!`.
///
/// ```
/// # struct Db { url: String }
/// # impl Db {
/// #     fn open(url: &str) -> std::io::Result<Db> { Ok(Db { url: url.to_owned() }) }
/// #     fn close(self) -> std::io::Result<()> { Ok(()) }
/// # }
/// lifecycle::decl::defstate! {
///     /// The database URL.
///     static URL: String = "sqlite::memory:".to_owned();
///
///     /// The database; `db` is the value being stopped.
///     pub static DB: Db = Db::open(&URL.get())?;
///     stop(db) => db.close();
///     name = "db";
///     meta(bucket = "storage");
/// }
///
/// assert_eq!(DB.get().url, "sqlite::memory:");
/// assert_eq!(DB.name(), "db");
/// lifecycle::stop().unwrap();
/// ```
///
/// # Syntax
///
/// ```text
/// defstate! {
///     crate = path;                          // optional, first: a renamed `lifecycle`
///
///     /// docs and #[attributes]
///     VIS static NAME: Type = start_expression;
///     stop(value) => stop_expression;        // optional clauses, in any order
///     stop = closure_or_function;            //   (one stop of either form)
///     name = "name";
///     meta(key = "value", ...);
///     reload;                                // reloaded by lifecycle::reload() and SIGHUP
///
///     /// more states ...
/// }
/// ```
///
/// The clauses after a static belong to it. `stop(value) => expression;` binds the value
/// (any irrefutable pattern) for the expression, which returns `()` or `Result<(), E>` and
/// may use `?`; a block body needs no `;`.
///
/// It lives at `lifecycle::decl::defstate!` because an attribute macro and a function-like
/// macro cannot share one name at one path (E0252/E0255), and the prelude's `defstate` is
/// the attribute.
#[proc_macro]
pub fn defstate_block(input: TokenStream) -> TokenStream {
    emit(defstate::expand::defstate_block(input.into()))
}

/// Makes a local state: `state!(expression)` or
/// `state! { start: expression, stop: |value| ..., name: "...", meta(key = "value") }`.
///
/// A local state has the same type as a static one, `State<T>`, so states can be kept in
/// collections and passed around. Dropping a realized local state stops it.
///
/// ```
/// use lifecycle::prelude::*;
///
/// let answer = state!(41 + 1);
/// assert_eq!(*answer.get(), 42);
/// assert!(answer.name().starts_with("state@")); // "state@<file>:<line>:<column>"
///
/// let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
/// let flag = stopped.clone();
/// let buffer = state! {
///     start: Vec::<u8>::with_capacity(1024),
///     stop: move |buffer: Vec<u8>| {
///         flag.store(true, std::sync::atomic::Ordering::SeqCst);
///         drop(buffer);
///     },
///     name: "buffer",
///     meta(kind = "scratch"),
/// };
/// assert!(buffer.get().capacity() >= 1024);
/// assert_eq!(buffer.meta("kind"), Some("scratch"));
/// buffer.stop().unwrap();
/// assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
/// ```
///
/// # Keys
///
/// * `start: expression` (required) — the body of a `move` closure run on each start: it owns
///   what it uses and may use `?`.
/// * `stop: function` — any `Fn(T)` returning `()` or `Result<(), E>`, often a closure.
/// * `name: "..."` — by default `"state@<file>:<line>:<column>"` of the `state!` call.
/// * `meta(key = "value", ...)` — as for `#[defstate]`.
/// * `reload` — as for `#[defstate]`.
/// * `crate: path` — where the `lifecycle` crate is when it is renamed.
///
/// `state!(async { ... })` (or `start: async { ... }`) makes a local `AsyncState<T>`; its
/// stop may return a future or a plain `()`/`Result`. The block runs anew on each start, so it may use only values it
/// can copy from its surroundings; for others, use `AsyncState::new` and clone in the closure.
///
/// ```
/// # use lifecycle::prelude::*;
/// # lifecycle::__private::block_on(async {
/// let base = 40;
/// let answer = state!(async { base + 2 });
/// assert_eq!(*answer.get().await, 42);
/// answer.stop().await.unwrap();
/// # });
/// ```
#[proc_macro]
pub fn state(input: TokenStream) -> TokenStream {
    emit(defstate::expand::state(input.into()))
}

// ---------------------------------------------------------------------------------------------
// Resources, systems and shutdown (issue 4): `with_resources!`, `mk_system!`, `defresource!`,
// `#[lifecycle::main]`. Documented in the facade.
// ---------------------------------------------------------------------------------------------

/// Opens resources, runs a body, closes them in reverse order on every exit path.
#[proc_macro]
pub fn with_resources(input: TokenStream) -> TokenStream {
    emit(syn::parse2(input.into()).and_then(with_resources::expand))
}

/// A struct of named resources that start in order and close in reverse.
#[proc_macro]
pub fn mk_system(input: TokenStream) -> TokenStream {
    emit(syn::parse2(input.into()).and_then(mk_system::expand))
}

/// A global place for a resource: `defresource!(pub NAME: Type)`.
#[proc_macro]
pub fn defresource(input: TokenStream) -> TokenStream {
    emit(syn::parse2(input.into()).and_then(defresource::expand))
}

/// Shutdown handling around `fn main`: SIGINT/SIGTERM, exit, and teardown when it ends.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    main_attr::entry(args.into(), item.into()).into()
}

/// A `#[test]` whose body runs in a private world (`lifecycle::isolate`). Documented in the
/// facade.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::entry(args.into(), item.into()).into()
}
