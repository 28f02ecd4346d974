use lifecycle::prelude::*;

defresource!(pub PORT: u16);

fn main() {}
