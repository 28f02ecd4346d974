use lifecycle::prelude::*;

#[defstate]
static PORT: u16 = "8080";

fn main() {}
