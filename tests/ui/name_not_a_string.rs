use lifecycle::prelude::*;

#[defstate(name = database)]
static DB: u32 = 1;

#[defstate(name = 42)]
static ANSWER: u32 = 42;

#[defstate(name = "")]
static EMPTY: u32 = 0;

#[defstate(name = format!("db-{}", 1))]
static COMPUTED: u32 = 1;

fn main() {}
