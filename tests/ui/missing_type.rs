use lifecycle::prelude::*;

#[defstate]
static UNTYPED = 5_u32;

#[defstate]
static INFERRED: _ = 5_u32;

#[defstate]
static NO_START: u32;

lifecycle::decl::defstate! {
    static PORT = 8080_u16;
}

fn main() {}
