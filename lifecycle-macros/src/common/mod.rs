//! What every macro of this crate shares, below all of them: the error accumulator
//! (`errors`), the `crate = path` rule (`krate`), span helpers (`span`), recovery after a
//! syntax error (`recover`), separated lists with or without recovery (`list`), the frame of
//! the block macros' input (`block`), the fallback contract (`entry`), and the resource
//! macros' runtime names and `?` rewrite (`resource`, `try_rewrite`). Imports nothing from
//! the macros' modules; within it, `errors` and `span` import nothing.

pub(crate) mod block;
pub(crate) mod entry;
pub(crate) mod errors;
pub(crate) mod krate;
pub(crate) mod list;
pub(crate) mod recover;
pub(crate) mod resource;
pub(crate) mod span;
pub(crate) mod try_rewrite;
