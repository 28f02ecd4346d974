use lifecycle::prelude::*;

fn open() -> Result<String, std::io::Error> {
    Ok(String::from("connection"))
}

fn main() {
    let _ = with_resources!([
        ok = closeable(1, |_| ()),
        name = String::from("not a resource"),
        result = open(),
    ] {
        name.len()
    });
}
