use lifecycle::prelude::*;

#[defstate(name: "attribute")]
static ATTRIBUTE: u32 = 0;

fn main() {
    let local = state! { start: 1_u32, name = "local" };
    let _: u32 = *local.get() + *ATTRIBUTE.get();
}
