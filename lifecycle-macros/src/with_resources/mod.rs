//! `with_resources!([a = expr, b = expr, ...] { body })`: open, use, close in reverse order.
//!
//! Phases: `parse`, `expand`; shared parts in `common`.

mod expand;
mod parse;

pub(crate) use expand::expand;
