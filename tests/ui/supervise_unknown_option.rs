use lifecycle::defstate;

#[defstate(supervise(max_restart = 5))]
static DB: u32 = 1;

#[defstate(supervise(retries = 3))]
static CACHE: u32 = 1;

fn main() {
    let _ = DB.get();
    let _ = CACHE.get();
}
