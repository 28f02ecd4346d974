use lifecycle::prelude::*;

#[defstate]
struct Config {
    port: u16,
}

fn main() {
    let _ = Config { port: 8080 }.port;
}
