use lifecycle::prelude::*;

// The type appears several times in the expansion, all with the user's spans: one error.
#[defstate(stop = |db| drop(db))]
static DB: Databse = Databse::open();

fn main() {}
