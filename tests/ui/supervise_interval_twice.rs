use lifecycle::defstate;

#[defstate(supervise(interval = "1s"), interval = "5s")]
static DB: u32 = 1;

fn main() {
    let _ = DB.get();
}
