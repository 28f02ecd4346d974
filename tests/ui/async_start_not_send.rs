use lifecycle::prelude::*;

#[defstate]
static URL: String = String::from("tcp://db");

async fn connect(_url: &str) -> u32 {
    0
}

// A sync guard (`Ref`) is not `Send`; held across `.await`, it makes the start not `Send`.
#[defstate]
static CLIENT: u32 = async { connect(&URL.get()).await };

fn main() {}
