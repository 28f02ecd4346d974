use lifecycle::prelude::*;

#[defstate(stop = |count| count + 1)]
static COUNT: u32 = 0;

fn main() {}
