// A check that returns a `bool` instead of `Result<(), E>`.
use lifecycle::State;

fn main() {
    let _worker = State::new("worker", || Ok(1u32)).with_check(|value: &u32| *value > 0);
}
