use lifecycle::prelude::*;
use std::cell::Cell;

#[defstate]
static HITS: Cell<u32> = Cell::new(0);

fn main() {}
