use lifecycle::prelude::*;

pub struct Db;

#[defstate]
fn database() -> Result<Db, std::io::Error> {
    Ok(Db)
}

fn main() {
    // The function is kept as written, so its callers still compile.
    let _ = database();
}
