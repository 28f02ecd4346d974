use lifecycle::prelude::*;
use std::cell::RefCell;

// One error, on the type: a state is shared between threads. Its uses add nothing.
#[defstate]
static DB: RefCell<i32> = RefCell::new(0);

#[defstate]
static ASYNC_DB: RefCell<i32> = async { RefCell::new(0) };

fn main() {
    *DB.get().borrow_mut() += 1;
    let _ = ASYNC_DB.get();
}
