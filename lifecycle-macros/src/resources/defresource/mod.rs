//! `defresource!(pub NAME: Type)`: a global place for a resource, defined with
//! `NAME.define(|| ...)`.

mod ast;
mod expand;

pub(crate) use expand::expand;
