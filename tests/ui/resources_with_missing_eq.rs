use lifecycle::prelude::*;

fn main() {
    let _ = with_resources!([db closeable(1, |_| ())] { 0 });
}
