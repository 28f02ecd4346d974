use lifecycle::prelude::*;

fn main() {
    let typo = state! { strat: 1_u32 };
    let other = state! { start: 1_u32, nmae: "one" };
    let unrelated = state! { start: 1_u32, timeout: 5 };
    // The last two still have a start, so they are `State<u32>`; the first is an error
    // expression. None of these lines adds an error.
    let _ = typo.get();
    let _: u32 = *other.get() + *unrelated.get();
}
