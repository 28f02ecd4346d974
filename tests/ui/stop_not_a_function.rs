use lifecycle::prelude::*;

pub struct Db;

impl Db {
    fn close(self) {}
}

#[defstate(stop = db.close())]
static DB: Db = Db;

#[defstate(stop = || println!("stopped"))]
static NO_ARGUMENT: u32 = 0;

#[defstate(stop = |a, b| drop((a, b)))]
static TWO_ARGUMENTS: u32 = 0;

fn main() {}
