use lifecycle::prelude::*;

#[defstate(reload = true)]
static VALUED: u32 = 1;

#[defstate(reload, name = "twice", reload)]
static TWICE: u32 = 1;

fn main() {
    let _local = state! { start: 1_u32, reload: true };
}
