//! **The reloaded workflow for Rust: states that start lazily, are tracked, can be stopped and
//! started again, and are torn down in reverse order.**
//!
//! # Example
//!
//! ```
//! use lifecycle::prelude::*;
//!
//! let config = state!(String::from("postgres://localhost/app"));
//! let pool = State::new("pool", || Ok(vec!["conn-1", "conn-2"]));
//!
//! assert_eq!(config.get().as_str(), "postgres://localhost/app"); // starts on first use
//! assert_eq!(pool.get().len(), 2);
//! let names: Vec<String> = lifecycle::status().iter().map(|s| s.name().to_owned()).collect();
//! assert!(names.iter().any(|n| n == "pool"));
//! pool.restart().unwrap();                                        // stop, then start again
//! lifecycle::stop().unwrap();                                     // newest first
//! assert!(!pool.is_realized());
//! ```
//!
//! # Details
//!
//! - A [`State<T>`] starts on the first [`get`](State::get); racing threads wait for the one
//!   start and see the same value.
//! - [`stop()`] stops every realized state in reverse realization order, tries every one even
//!   if some fail, and reports each failure.
//! - A stop waits (10 s by default, see [`set_stop_timeout`]) for outstanding guards, so the
//!   value never dangles and its resources are released when `stop` returns.
//! - A failed or panicking start leaves the state unrealized; the next `get` tries again.
//! - Inside a start, a failed `get` of another state makes that start fail with an error
//!   whose `source()` is the other state's error, printing nothing; outside a start, `get`
//!   panics at the caller's line.
//! - Reading a realized state takes no lock and writes no shared memory.
//! - An [`AsyncState<T>`] (`#[defstate]` with an `async { ... }` initializer) is read with
//!   `.get().await` and hands out `Send` guards; [`stop_async`] stops sync and async states
//!   together, in one reverse order. No particular async runtime is required.
//!
//! This crate re-exports a list of items of `lifecycle-core` and the macros of `lifecycle-macros`.
//! Imports only those two crates; its optional modules (`console`, `server`, `admin`, `hot`) use
//! the runtime through these re-exports, and no module imports one above it (`admin` over `server`
//! over `console`).

// The loom model checks build lifecycle-core's dev-dependencies (this crate, for its doc
// examples) with `--cfg loom`, where the core is only its kernel: nothing here applies then.
#![cfg(not(loom))]
#![deny(unsafe_code)]

// The public surface is a list, grouped by concept; `__private` (below) is the only door to
// the runtime's internals, and only generated code uses it.

// States: the types, their guards and what they report.
pub use lifecycle_core::{AsyncRef, AsyncState, BindGuard, Owned, Redefine, Ref, Restarted};
pub use lifecycle_core::{State, Status};
// Identity and the declared-state registry.
pub use lifecycle_core::{declared, Declaration, StateInfo};
// Over every tracked state.
pub use lifecycle_core::{graph, status, stop, stop_where, stop_within, Graph, StopReport};
pub use lifecycle_core::{set_stop_timeout, stop_timeout};
pub use lifecycle_core::{stop_async, stop_async_where, stop_async_within};
// Production: parallel start, the start-up report, health.
pub use lifecycle_core::{health, health_of, Health, StateHealth};
pub use lifecycle_core::{reload, reload_async, ReloadReport};
pub use lifecycle_core::{start_all, start_all_async, start_all_async_where, start_all_where};
pub use lifecycle_core::{startup_report, Blame, StartAllReport, StartupReport};
pub use lifecycle_core::{FailHandle, Supervise, EXIT_GAVE_UP};
// Private worlds: the scope of a thread's bindings, and tests that run in parallel.
pub use lifecycle_core::{isolate, isolate_async, try_isolate, try_isolate_async};
// Watchpoints.
pub use lifecycle_core::{unwatch, watch, Event};
// Errors.
pub use lifecycle_core::{BoxError, Error};
// Resources, the restart container and shutdown (helper types in [`resource`]).
pub use lifecycle_core::{close_on_shutdown, install_shutdown};
pub use lifecycle_core::{closeable, AsyncResource, Atom, Closeable, Resource};

pub use lifecycle_macros::{defstate, state};

/// The helper types of resources that most programs never name: the guards
/// `with_resources!` binds ([`Opened`](resource::Opened), [`AsyncOpened`](resource::AsyncOpened)),
/// the closer of a system's parts ([`Closer`](resource::Closer)), the close function of a
/// [`Closeable`] ([`CloseFn`](resource::CloseFn)) and the global place `defresource!` declares
/// ([`Slot`](resource::Slot)).
pub mod resource {
    pub use lifecycle_core::{AsyncOpened, CloseFn, Closer, Opened, Slot};
}

/// The names most programs need: `use lifecycle::prelude::*;`.
///
/// `defstate` here is the attribute, `#[defstate]`; its block form is
/// [`lifecycle::decl::defstate!`](crate::decl::defstate).
pub mod prelude {
    pub use crate::{defstate, state, AsyncState, Error, State};
    // Resources, systems and shutdown (issue 4).
    pub use crate::{closeable, defresource, mk_system, with_resources, Atom, Closeable, Resource};
}

/// Declarations in a block: [`defstate!`](crate::decl::defstate) declares several static
/// states at once, each with its options written as clauses after it.
///
/// ```
/// lifecycle::decl::defstate! {
///     /// The port the server listens on.
///     pub static PORT: u16 = std::env::var("PORT").map_or(Ok(8888), |port| port.parse())?;
///     name = "web/port";
///
///     /// Requests served so far; printed when the state stops.
///     static SERVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
///     stop(served) => println!("served {} requests", served.into_inner());
/// }
///
/// assert_eq!(PORT.name(), "web/port");
/// SERVED.get().fetch_add(1, std::sync::atomic::Ordering::Relaxed);
/// lifecycle::stop().unwrap();
/// ```
///
/// # Why a module of its own
///
/// The function-like `defstate!` cannot live next to the attribute `#[defstate]`: attribute
/// and function-like macros share the macro namespace, so one path can name only one of them
/// (two `use`s of one name are E0252, a `use` next to a macro of that name is E0255). The
/// attribute is the common case and gets `lifecycle::defstate` and the prelude; the block form
/// is `lifecycle::decl::defstate!`, called by that path or through its module
/// (`use lifecycle::decl;` then `decl::defstate! { ... }`). Do not import it by name next to
/// the prelude: an explicit `use lifecycle::decl::defstate;` shadows the prelude's glob, and
/// `#[defstate]` would then name the block form.
pub mod decl {
    pub use lifecycle_macros::defstate_block as defstate;
}

#[doc(hidden)]
pub use lifecycle_core::private as __private;

// ---------------------------------------------------------------------------------------------
// Resources, systems and shutdown (issue 4): the macros, documented here where the examples
// can run against this crate.
// ---------------------------------------------------------------------------------------------

/// Opens resources, runs a body, and closes them in reverse order on every exit path.
///
/// `with_resources!([a = expr, b = expr, ...] { body })` evaluates to
/// `Result<Body, lifecycle::Error>`. Each binding's value must be a [`Resource`]; the name is
/// bound to an [`Opened`](resource::Opened) guard that derefs to it, so later bindings and the body use and
/// borrow it like the resource itself (`db.query()`, `Handler::new(&db)`; `&*db` where a
/// generic function needs the resource's own type).
///
/// ```
/// use lifecycle::prelude::*;
/// use std::cell::RefCell;
///
/// let log = RefCell::new(Vec::new());
/// let db = |name: &'static str| closeable(name, |name| log.borrow_mut().push(name));
///
/// let total = with_resources!([a = db("a"), b = db("b")] {
///     a.len() + b.len()
/// });
/// assert_eq!(total.unwrap(), 2);
/// assert_eq!(*log.borrow(), ["b", "a"]);   // closed in reverse order
/// ```
///
/// # Details
///
/// - Normal end: every resource is closed, last opened first; the body's value comes back as
///   `Ok`, or the close failures as `Err` ([`Error::Close`] naming the binding, or
///   [`Error::CloseAll`] for several).
/// - `?` in a binding ends the opening: what was already opened is closed in reverse, and the
///   error comes back as [`Error::Open`] naming the binding — with the close failures
///   attached after it as [`Error::Rollback`] if closing failed too. The error may be any
///   `std::error::Error + Send + Sync`, a `String` or a `lifecycle::Error`. (`?` inside a
///   closure, an `async` block or another macro's arguments is not rewritten.)
/// - A panic in a binding or the body closes what was opened, in reverse, and then goes on.
///   So do `return`, `break`, `continue` and `?` in the body, which keep their usual meaning
///   in the enclosing function; close failures on these paths are logged with `tracing`.
/// - `_ = expr` opens and closes a resource without naming it.
/// - A value that is not a resource is a compile error on its expression.
/// - `crate = path;` before the brackets names a renamed `lifecycle` crate.
///
/// ```
/// use lifecycle::prelude::*;
/// use std::cell::RefCell;
///
/// let log = RefCell::new(Vec::new());
/// let open = |name: &'static str, ok: bool| -> Result<_, String> {
///     if ok { Ok(closeable(name, |name| log.borrow_mut().push(name))) }
///     else { Err(format!("{name} is down")) }
/// };
/// let result = with_resources!([a = open("a", true)?, b = open("b", false)?] { unreachable!() });
/// let error: lifecycle::Error = result.unwrap_err();
/// assert_eq!(error.to_string(), "resource `b` failed to open: b is down");
/// assert_eq!(*log.borrow(), ["a"]);   // `a` was opened, so it was closed
/// ```
///
/// # Async
///
/// `with_resources!(async [...] { body })`, inside async code, is the twin for resources whose
/// close is `async`: each value is an [`AsyncResource`] (every [`Resource`] is one, and so is
/// an [`AsyncState`]), bindings and body may `.await`, and every close of the normal path and
/// of the rollback is awaited, last opened first, with the same errors. A scope left early
/// (a panic, `return`/`?` in the body, or its future dropped) cannot await in `Drop`: there
/// the closes run on the dropping thread, bounded by [`stop_timeout`], and failures are logged.
///
/// ```
/// use lifecycle::prelude::*;
/// use lifecycle::{AsyncResource, Error};
///
/// struct Conn(&'static str);
/// impl AsyncResource for Conn {
///     async fn close_async(self) -> Result<(), Error> {
///         println!("closing {}", self.0);   // e.g. flush, then say goodbye to the peer
///         Ok(())
///     }
/// }
/// async fn connect(name: &'static str) -> Result<Conn, Error> { Ok(Conn(name)) }
///
/// # lifecycle::__private::block_on(async {
/// let names = with_resources!(async [a = connect("a").await?, b = connect("b").await?] {
///     format!("{}+{}", a.0, b.0)
/// });
/// assert_eq!(names.unwrap(), "a+b");   // closed b, then a
/// # });
/// ```
pub use lifecycle_macros::with_resources;

/// A struct of named resources that start in declaration order and close in reverse.
///
/// ```
/// use lifecycle::prelude::*;
///
/// pub struct Db { url: String }
/// impl Db {
///     fn open(url: &str) -> Result<Db, lifecycle::Error> { Ok(Db { url: url.to_owned() }) }
/// }
/// impl Resource for Db {
///     fn close(self) -> Result<(), lifecycle::Error> { println!("closing {}", self.url); Ok(()) }
/// }
///
/// pub struct Server { port: u16, db_url: String }
/// impl Resource for Server {
///     fn close(self) -> Result<(), lifecycle::Error> { println!("stopping :{}", self.port); Ok(()) }
/// }
///
/// mk_system! {
///     /// The application.
///     pub struct App(url: &str, port: u16) {
///         /// The database, started first and closed last.
///         pub db: Db = Db::open(url)?,
///         /// Sees the parameters and the parts before it.
///         pub server: Server = Server { port, db_url: db.url.clone() },
///     }
/// }
///
/// let app = App::start("sqlite::memory:", 8080)?;
/// assert_eq!(app.server.db_url, "sqlite::memory:");   // `App` derefs to its parts
/// app.close()?;                           // server, then db
/// # Ok::<(), lifecycle::Error>(())
/// ```
///
/// # Details
///
/// - `mk_system! { vis struct Name(params) { vis part: Type = expr, ... } }` declares
///   `Name` and `NameParts` (the parts as plain fields, with their doc comments and
///   visibility); `Name` derefs to `NameParts`, so `app.db` is the `Db`.
/// - `Name::start(params) -> Result<Name, lifecycle::Error>` starts the parts in order; each
///   initializer sees the parameters and the earlier parts by name (as [`Opened`](resource::Opened) guards
///   that deref to them).
/// - A failing initializer (`?`, as in `with_resources!`) closes the parts already started in
///   reverse order and returns [`Error::Open`] naming `Name.part` — or [`Error::Rollback`]
///   with the close errors attached after it. A panic closes them too, then goes on.
/// - `close()` and dropping close the parts in reverse declaration order, trying every one.
/// - A system is a [`Resource`], so systems nest; it allocates nothing of its own.
/// - `#[derive(...)]` on the system goes on `NameParts` (which holds the data); with
///   `Debug` among them, `Name` is `Debug` too and shows its parts.
/// - Every part's type must be a [`Resource`]; a leading `crate = path;` names a renamed
///   `lifecycle` crate.
/// - `mk_system! { vis async struct Name(params) { ... } }` is the async twin: `start` and
///   `close` are `async fn`s (initializers may `.await`), parts are [`AsyncResource`]s, and
///   the closes of `close` and of a failed start's rollback are awaited, newest first, with
///   the same errors. The system is an [`AsyncResource`], so async systems nest; dropping
///   one closes its parts on the dropping thread, bounded by [`stop_timeout`].
///
/// ```
/// use lifecycle::prelude::*;
/// use lifecycle::Error;
///
/// async fn pool(url: &str) -> Result<Vec<String>, Error> { Ok(vec![url.to_owned()]) }
///
/// mk_system! {
///     pub async struct Service(url: &str) {
///         pub pool: Closeable<Vec<String>> = closeable(pool(url).await?, |_| ()),
///         pub client: AsyncState<usize> = {
///             let size = pool.len();
///             AsyncState::new("service/client", move || async move { Ok::<_, Error>(size) })
///         },
///     }
/// }
///
/// # lifecycle::__private::block_on(async {
/// let service = Service::start("tcp://db").await?;
/// assert_eq!(*service.client.get().await, 1);
/// service.close().await?;   // stops the client state, then closes the pool
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
pub use lifecycle_macros::mk_system;

/// A global place for a resource: `defresource!(pub NAME: Type)`, then `NAME.define(|| ...)`.
///
/// Declares `static NAME: lifecycle::resource::Slot<Type>` named `"<module path>::NAME"`. See
/// [`Slot`](resource::Slot) for `define` (which closes the previous value first), `get` and `close`. A
/// defined place is listed by [`status()`] and closed by [`stop()`], in the same reverse
/// order as states. Several places may be declared at once, separated by `;`; a leading
/// `crate = path;` names a renamed `lifecycle` crate.
///
/// ```
/// use lifecycle::prelude::*;
///
/// pub struct Server { port: u16 }
/// impl Resource for Server {
///     fn close(self) -> Result<(), lifecycle::Error> { println!("stopping :{}", self.port); Ok(()) }
/// }
///
/// defresource!(
///     /// The running server.
///     pub SERVER: Server
/// );
///
/// SERVER.define(|| Ok::<_, lifecycle::Error>(Server { port: 8080 }))?;
/// SERVER.define(|| Ok::<_, lifecycle::Error>(Server { port: 8081 }))?;  // closes :8080 first
/// assert_eq!(SERVER.get().unwrap().port, 8081);
/// assert!(lifecycle::status().iter().any(|s| s.name().ends_with("::SERVER")));
/// lifecycle::stop()?;                                                  // closes :8081
/// assert!(SERVER.get().is_none());
/// # Ok::<(), lifecycle::Error>(())
/// ```
pub use lifecycle_macros::defresource;

/// Shutdown handling around `fn main`: SIGINT/SIGTERM and `process::exit` run the teardown,
/// and so does the end of `main` — a return, an `Err`, or a panic.
///
/// ```no_run
/// #[lifecycle::main]
/// fn main() -> Result<(), lifecycle::Error> {
///     let db = lifecycle::State::new("db", || Ok("connection"))
///         .with_stop(|_| println!("db stopped"));
///     println!("using {}", *db.get());
///     Ok(())
/// }   // teardown: every state, place and `close_on_shutdown` resource, in reverse order
/// ```
///
/// # Details
///
/// - The teardown is [`stop()`]: every active state, `defresource!` place and
///   [`close_on_shutdown`] resource, in reverse realization order; failures go to stderr.
/// - Exit status: what `main` returned (`Err` prints `Error: ...` and gives 1); 1 if `main`
///   succeeded but the teardown failed; 101 after a panic (the teardown runs while it
///   unwinds; with `panic = "abort"` it cannot run).
/// - SIGINT/SIGTERM (Unix): the teardown runs on a dedicated thread, never in the signal
///   handler; then the process ends *by the same signal* with its default action, so the
///   parent sees the signal (a shell reports 130 for SIGINT, 143 for SIGTERM). A second
///   signal during the teardown ends the process at once, the same way. The handlers are
///   registered with `signal-hook` and chain with other handlers.
/// - `std::process::exit(code)`: an `atexit` handler runs the teardown, then the process
///   exits with `code`.
/// - `main` may return `()`, `Result<T, E: Debug>` or `ExitCode`; it takes no parameters.
///   For `async fn main`, put the runtime's attribute below: `#[lifecycle::main]
///   #[tokio::main] async fn main()`.
/// - `#[lifecycle::main(crate = path)]` names a renamed `lifecycle` crate.
pub use lifecycle_macros::main;

/// A test that runs in a private world: the body runs in [`isolate`] (an `async fn`: in
/// [`isolate_async`]), so every state it starts is its own — other tests running in parallel
/// never see it — and is stopped in reverse order when the test ends, passes or panics.
/// Parallel `cargo test` with global states needs no `serial_test`.
///
/// ```
/// use lifecycle::prelude::*;
///
/// #[defstate]
/// static PORT: u16 = 8080;
/// #[defstate]
/// static URL: String = format!("http://localhost:{}", *PORT.get());
///
/// #[lifecycle::test]
/// fn url_uses_the_bound_port() {
///     let _port = PORT.bind(0);
///     assert_eq!(*URL.get(), "http://localhost:0"); // a private URL
/// }
///
/// #[lifecycle::test]
/// #[tokio::test]
/// async fn url_in_an_async_test() -> Result<(), lifecycle::Error> {
///     assert_eq!(*URL.try_get()?, "http://localhost:8080"); // private here too
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// # Details
///
/// - A sync `fn` gets `#[test]` from this attribute: do not add one. Other attributes
///   (`#[should_panic]`, `#[ignore]`) stay.
/// - An `async fn` needs a runtime's test attribute *below* this one, such as
///   `#[tokio::test]`: `lifecycle` starts no runtime. The scope follows the test's task
///   across worker threads (see [`isolate_async`]); tasks it spawns do not inherit it.
/// - The test may return `()` or a `Result`; `?` and `return` work as in any test.
/// - What the teardown failed to stop is logged with `tracing`, like [`isolate`]; the test
///   still passes. Call [`try_isolate`] yourself to fail on it.
/// - `#[lifecycle::test(crate = path)]` names a renamed `lifecycle` crate.
pub use lifecycle_macros::test;

// ---------------------------------------------------------------------------------------------
// The library console and the server helper (issue 12, item 5): optional modules, each
// behind its cargo feature.
//
// - `console`: `lifecycle::console`. Depends on tokio (`sync`, `rt`): the async console's
//   line channel, and `spawn_blocking` so a sync state's stop, which may wait for guards,
//   never blocks an async thread.
// - `server`: `lifecycle::server`. Depends on tokio (`net`, `rt`, `sync`, `time`): the
//   server's task, its shutdown signal, its grace timer and its one-turn lock; and on
//   `tracing` (already in the build through lifecycle-core) for its INFO lines.
// - `admin`: `lifecycle::admin`, the live admin page (an axum `Router`). Depends on axum
//   (routing, JSON, SSE), layout-rs (the graph drawn as SVG in pure Rust), serde/serde_json
//   (the JSON), futures-util (the event stream) and the console (its actions).
// - `serde` (forwarded to lifecycle-core): `serde::Serialize` for `lifecycle::Health` and
//   `StateHealth`, the JSON shape of the health report.
//
// - `hot`: `lifecycle::hot`. Forwards `hot` to lifecycle-core (`subsecond`: start and stop
//   calls through the hot-patch jump table, the after-patch restart) and adds
//   `dioxus-devtools`, the connection to the `dx serve --hot-patch` dev server.
//
// Without these features `lifecycle` needs no async runtime.
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "console")]
pub mod console;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "admin")]
pub mod admin;
#[cfg(feature = "hot")]
pub mod hot;
