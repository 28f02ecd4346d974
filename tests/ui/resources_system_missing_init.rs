use lifecycle::prelude::*;

mk_system! {
    pub struct App(port: u16) {
        port_number: Closeable<u16> = closeable(port, |_| ()),
        cache: Closeable<u32>,
    }
}

fn main() {
    let app = App::start(80).unwrap();
    let _ = app.cache.checked_add(1);
}
