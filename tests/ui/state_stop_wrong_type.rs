use lifecycle::prelude::*;

fn main() {
    let _ = state! { start: 1_u32, stop: |text: String| drop(text) };
}
