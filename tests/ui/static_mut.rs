use lifecycle::prelude::*;

#[defstate]
static mut COUNTER: u32 = 0;

fn main() {
    // Still a `State<u32>` for the rest of the program: no second error here.
    let _: u32 = *COUNTER.get();
}
