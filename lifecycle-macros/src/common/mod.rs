//! What every macro of this crate shares, below all of them: the error accumulator
//! (`errors`), the `crate = path` rule (`krate`), span helpers (`span`), recovery after a
//! syntax error (`recover`), separated lists with or without recovery (`list`), the frame of
//! the block macros' input (`block`), the fallback contract (`entry`), and the resource
//! macros' runtime names and `?` rewrite (`resource`, `try_rewrite`). Within it, `errors`,
//! `recover` and `span` import nothing.
//!
//! Imports only its own submodules; must not import any macro's module (they are all built on
//! `common`).

pub(crate) mod block;
pub(crate) mod entry;
pub(crate) mod errors;
pub(crate) mod krate;
pub(crate) mod list;
pub(crate) mod recover;
pub(crate) mod resource;
pub(crate) mod span;
pub(crate) mod try_rewrite;
