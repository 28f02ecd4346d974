#[lifecycle::main]
async fn main() {}
