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

#![deny(unsafe_code)]

pub use lifecycle_core::*;
pub use lifecycle_macros::state;

/// The names most programs need: `use lifecycle::prelude::*;`.
pub mod prelude {
    pub use crate::{state, Error, State};
}

#[doc(hidden)]
pub use lifecycle_core::private as __private;
