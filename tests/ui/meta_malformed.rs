use lifecycle::prelude::*;

#[defstate(meta = "web")]
static EQUALS: u32 = 0;

#[defstate(meta(port = 8080))]
static NUMBER: u32 = 0;

#[defstate(meta("bucket" = "web"))]
static STRING_KEY: u32 = 0;

#[defstate(meta(bucket))]
static NO_VALUE: u32 = 0;

fn main() {}
