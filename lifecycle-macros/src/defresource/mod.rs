//! `defresource!(pub NAME: Type)`: a global place for a resource, defined with
//! `NAME.define(|| ...)`.
//!
//! Phases: `parse` (the places), `expand`; shared parts in `common`.

mod expand;
mod parse;

pub(crate) use expand::expand;
