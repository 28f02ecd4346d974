use lifecycle::prelude::*;

mk_system! {
    pub struct App {
        db = closeable(1, |_| ()),
    }
}

fn main() {}
