use lifecycle::defstate;

#[defstate(supervise)]
static DB: u32 = async { 1 };

fn main() {}
