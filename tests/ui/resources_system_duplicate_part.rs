use lifecycle::prelude::*;

mk_system! {
    pub struct App {
        db: Closeable<u32> = closeable(1, |_| ()),
        db: Closeable<u32> = closeable(2, |_| ()),
    }
}

fn main() {
    let app = App::start().unwrap();
    let _ = app.db.checked_add(1);
}
