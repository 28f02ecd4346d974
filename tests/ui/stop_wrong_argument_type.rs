use lifecycle::prelude::*;

pub struct Db;

#[defstate(stop = |db: String| drop(db))]
static DB: Db = Db;

fn main() {}
