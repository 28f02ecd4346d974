use lifecycle::defstate;

#[defstate(supervise(backoff = "5s..100ms"))]
static DB: u32 = 1;

fn main() {
    let _ = DB.get();
}
