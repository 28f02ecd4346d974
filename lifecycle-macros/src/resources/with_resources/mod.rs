//! `with_resources!([a = expr, b = expr, ...] { body })`: open, use, close in reverse order.

mod ast;
mod expand;

pub(crate) use expand::expand;
