#[lifecycle::main]
fn main() -> u8 {
    0
}
