use lifecycle::prelude::*;

pub struct Db;

impl Db {
    fn close(&self) {}
}

// `close` borrows, but a stop gets the value itself.
#[defstate(stop = Db::close)]
static DB: Db = Db;

fn main() {}
