use lifecycle::prelude::*;

#[defstate(crate = "lifecycle")]
static QUOTED: u32 = 0;

#[defstate(crate = 5)]
static NUMBER: u32 = 0;

fn main() {
    // `crate = "lifecycle"` was understood as `crate = lifecycle`: no error here.
    let _: u32 = *QUOTED.get();
}
