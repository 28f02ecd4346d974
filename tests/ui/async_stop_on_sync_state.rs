use lifecycle::prelude::*;

pub struct Client;

// An async stop function on a state whose start is not async.
#[defstate(stop = async |client| drop(client))]
static CLIENT: u32 = 0;

fn main() {
    let _: &u32 = &CLIENT.get();
}
