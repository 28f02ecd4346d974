use lifecycle::prelude::*;

#[defstate(name = "first", meta(bucket = "web"), name = "second")]
static TWICE: u32 = 1;

#[defstate(meta(bucket = "web", owner = "ops", bucket = "db"))]
static META_TWICE: u32 = 1;

fn main() {}
