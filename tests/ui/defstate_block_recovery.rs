fn pair(a: u8, b: u8) -> u8 {
    a + b
}

lifecycle::decl::defstate! {
    static BROKEN: u8 = pair(1 2);

    static AFTER: u8 = pair(1, 2);
    meta(key = "one" "two");
    name = "after";
}

fn main() {
    // BROKEN is still declared (its start fails), AFTER keeps its name: no more errors.
    let _: u8 = *BROKEN.get() + *AFTER.get();
    assert_eq!(AFTER.name(), "after");
}
