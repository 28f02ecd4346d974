// The one `crate = path` rule of every macro: a string is an error that says to drop the
// quotes, and the path in it is still used (nothing else is reported).
#[lifecycle::main(crate = "lifecycle")]
fn main() {
    let _ = lifecycle::with_resources!(crate = "lifecycle"; [] { 1 });
}

lifecycle::defresource!(crate = "lifecycle"; PLACE: ());
