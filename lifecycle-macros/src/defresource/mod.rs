//! `defresource!(pub NAME: Type)`: a global place for a resource, defined with
//! `NAME.define(|| ...)`.
//!
//! Phases: `parse` (the places), `expand`; shared parts in `common`.
//!
//! Imports only its own `expand`; `parse` must not import `expand`, and none of them imports
//! another macro's modules.

mod expand;
mod parse;

pub(crate) use expand::expand;
