use lifecycle::prelude::*;

#[defstate]
const LIMIT: u32 = 10;

fn main() {
    // Declared as a state anyway, so this use adds no error.
    let _: u32 = *LIMIT.get();
}
