//! Compile-fail cases of `with_resources!`, `mk_system!`, `defresource!` and
//! `#[lifecycle::main]`: each error lands on the user's tokens and says what to write.
//! Bless changes with `TRYBUILD=overwrite cargo test --test compiletest_resources` and review
//! the `.stderr` diff.

#[test]
fn ui_resources() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/resources_*.rs");
}
