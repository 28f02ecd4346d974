//! What every macro of this crate shares, below all of them: the error accumulator
//! (`errors`), the `crate = path` rule (`krate`), the span helpers (`span`), recovery after a syntax error (`recover`) and the fallback
//! contract (`entry`). Imports nothing from the macros' modules.

pub(crate) mod entry;
pub(crate) mod errors;
pub(crate) mod krate;
pub(crate) mod recover;
pub(crate) mod span;
