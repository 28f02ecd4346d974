// A local state's stop closure that returns a value that is neither `()` nor a `Result`.
use lifecycle::State;

fn main() {
    let _numbers = State::new("numbers", || Ok(vec![1, 2, 3]))
        .with_stop(|numbers: Vec<i32>| numbers.len());
}
