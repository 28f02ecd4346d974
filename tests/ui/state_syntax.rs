use lifecycle::prelude::*;

fn main() {
    let _ = state!();
    let _ = state!(1, 2);
    let _ = state! { start = 1 };
    let _ = state! { start: 1, name: local };
    let _ = state! { name: "no start" };
    let _ = state! { start: 1, stop: || () };
}
