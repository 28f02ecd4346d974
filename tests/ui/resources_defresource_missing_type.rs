use lifecycle::prelude::*;

defresource!(pub SERVER);

fn main() {}
