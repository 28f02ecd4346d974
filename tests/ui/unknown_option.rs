use lifecycle::prelude::*;

pub struct Db;

impl Db {
    fn close(self) {}
}

#[defstate(stpo = |db| db.close())]
static DB: Db = Db;

#[defstate(timeout = 5)]
static SLOW: u32 = 1;

fn main() {
    // Both are still declared, without their options: these uses add no errors.
    let _: &Db = &DB.get();
    let _: u32 = *SLOW.get();
}
