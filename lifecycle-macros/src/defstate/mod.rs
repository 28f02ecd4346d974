//! The state macros, `#[defstate]`, `defstate! { ... }` and `state!`, which share one model
//! and one set of options: `ast` (the typed model, keeping spans), `parse` (the options in
//! their three syntaxes, and the `defstate!` block), `valid` (checks the grammar cannot
//! make), `expand` (generation and the entry points), `fallback` (what is emitted next to
//! errors). Modules import downwards: `expand` → `fallback`/`valid`/`parse` → `ast` →
//! `common`, except that `fallback` runs `expand`'s generation on a stripped state.
//!
//! Imports only its own submodules; none of them may import another macro's modules.

pub(crate) mod ast;
pub(crate) mod expand;
pub(crate) mod fallback;
pub(crate) mod parse;
pub(crate) mod valid;
