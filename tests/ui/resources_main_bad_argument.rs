// A bad argument is one error: `main` is kept as written, so there is no second error about
// a missing `main`.
#[lifecycle::main(krate = lifecycle)]
fn main() {
    println!("still here");
}
