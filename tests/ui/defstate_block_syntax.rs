lifecycle::decl::defstate! {
    static CONFIG: String = String::new()

    static DB: Vec<u8> = Vec::new();
    stop(db) -> drop(db);

    static CACHE: Vec<u8> = Vec::new();
    strop(cache) => drop(cache);

    static PORT: u16 = 8080;
    crate = lifecycle;
}

fn main() {
    // States after a mistake still parse and are declared.
    let _: u16 = *PORT.get();
}
