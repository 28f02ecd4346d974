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
//! - Reading a realized state takes no lock and writes no shared memory.
//! - An [`AsyncState<T>`] (`#[defstate]` with an `async { ... }` initializer) is read with
//!   `.get().await` and hands out `Send` guards; [`stop_async`] stops sync and async states
//!   together, in one reverse order. No particular async runtime is required.

#![deny(unsafe_code)]

pub use lifecycle_core::*;
pub use lifecycle_macros::{defstate, state};

/// The names most programs need: `use lifecycle::prelude::*;`.
///
/// `defstate` here is the attribute, `#[defstate]`; its block form is
/// [`lifecycle::decl::defstate!`](crate::decl::defstate).
pub mod prelude {
    pub use crate::{defstate, state, AsyncState, Error, State};
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
