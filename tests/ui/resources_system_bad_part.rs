use lifecycle::prelude::*;

pub struct Db;

impl Resource for Db {
    fn close(self) -> Result<(), lifecycle::Error> {
        Ok(())
    }
}

// One part with a syntax error: one error, and `App` with its other parts is still declared.
mk_system! {
    pub struct App {
        pub db: Db = Db,
        pub cache: Db Db,
    }
}

fn main() {
    let app: Result<App, lifecycle::Error> = App::start();
    let _ = app.map(|app| app.close());
}
