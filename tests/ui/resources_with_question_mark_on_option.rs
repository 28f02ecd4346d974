use lifecycle::prelude::*;

fn main() {
    let maybe: Option<u32> = Some(1);
    let _ = with_resources!([db = closeable(maybe?, |_| ())] { *db });
}
