use lifecycle::defstate;

#[defstate(supervise(max_restarts = "5"))]
static DB: u32 = 1;

fn main() {
    let _ = DB.get();
}
