use lifecycle::prelude::*;

pub struct Client;

impl Client {
    async fn connect() -> Client {
        Client
    }

    fn generation(&self) -> u32 {
        1
    }
}

// An async state's stop may return a future, `()` or `Result<(), E>` (a plain closure is
// fine since issue 10); this one returns a `u32`.
#[defstate(stop = |client| client.generation())]
static CLIENT: Client = async { Client::connect().await };

fn main() {}
