// A part of an async system that is not an async resource. (Three errors where the sync
// `mk_system!` gives one: the async guard and closer repeat the bound; all three say what to do.)
use lifecycle::prelude::*;

pub struct Port(u16);

async fn bind(port: u16) -> Port {
    Port(port)
}

mk_system! {
    pub async struct App(port: u16) {
        pub listener: Port = bind(port).await,
    }
}

fn main() {}
