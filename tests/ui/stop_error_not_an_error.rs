use lifecycle::prelude::*;

#[derive(Debug)]
pub struct Refused;

// `Refused` is not a `std::error::Error`: one error, on the closure, saying what a stop may
// return.
#[defstate(stop = |_count| Err::<(), Refused>(Refused))]
static COUNT: u32 = 0;

fn main() {}
