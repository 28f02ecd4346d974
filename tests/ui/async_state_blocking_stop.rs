use lifecycle::prelude::*;

pub struct Client;

impl Client {
    async fn connect() -> Client {
        Client
    }

    fn close(self) {}
}

// The stop function of an async state returns a future; this one returns `()`.
#[defstate(stop = |client| client.close())]
static CLIENT: Client = async { Client::connect().await };

fn main() {}
