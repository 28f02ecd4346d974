use lifecycle::prelude::*;

pub struct Client;

impl Client {
    async fn connect() -> Client {
        Client
    }
}

#[defstate]
static CLIENT: Client = async { Client::connect().await };

#[defstate(stop = async |client| drop(client))]
static ASYNC_STOP: u32 = 0;

fn main() {
    let _: &Client = &CLIENT.get();
    let _local = state!(async { 1 });
}
