//! `with_resources!([a = expr, b = expr, ...] { body })`: open, use, close in reverse order.
//!
//! Phases: `parse`, `expand`; shared parts in `common`.
//!
//! Imports only its own `expand`; `parse` must not import `expand`, and none of them imports
//! another macro's modules.

mod expand;
mod parse;

pub(crate) use expand::expand;
