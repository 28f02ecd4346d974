use lifecycle::defstate;

#[defstate(supervise(within = "60 seconds"))]
static DB: u32 = 1;

fn main() {
    let _ = DB.get();
}
