use lifecycle::prelude::*;
use std::rc::Rc;

fn main() {
    let shared = Rc::new(5);
    let _ = state!(*shared + 1);
}
