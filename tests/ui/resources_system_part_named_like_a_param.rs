use lifecycle::prelude::*;

mk_system! {
    pub struct App(port: u16) {
        port: Closeable<u16> = closeable(port, |_| ()),
    }
}

fn main() {}
