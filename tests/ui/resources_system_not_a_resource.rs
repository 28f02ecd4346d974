use lifecycle::prelude::*;

struct Config {
    port: u16,
}

mk_system! {
    pub struct App {
        config: Config = Config { port: 80 },
    }
}

fn main() {
    let _ = App::start().map(|app| app.config.port);
}
