lifecycle::decl::defstate! {
    static A: u8 = 1;
    stop(a, b) => drop(a);

    static B: u8 = 2;
    stop() => ();

    static C: u8 = 3;
    name: "c";

    #[lifecycle::defstate(name = "d")]
    static D: u8 = 4;

    static E: u8;
}

fn main() {}
