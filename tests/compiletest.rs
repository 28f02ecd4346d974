//! Compile-fail tests: each `tests/ui/<mistake>.rs` must fail to build with exactly the
//! diagnostics in its `.stderr`. Bless changes with
//! `TRYBUILD=overwrite cargo test --test compiletest` and review every `.stderr` in the diff.
//!
//! Compiler output changes between releases, so the files are pinned to the toolchain they
//! were blessed with (Rust 1.95); on another one the test is skipped rather than failing on
//! wording the macros do not control.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are blessed with Rust 1.95"
)]
#[cfg_attr(miri, ignore)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
