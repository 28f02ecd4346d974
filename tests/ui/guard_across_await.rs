use lifecycle::prelude::*;

#[defstate]
static URL: String = String::from("tcp://db");

async fn connect(_url: &str) {}

// A sync guard (`Ref`) held across `.await` in a spawned task: the task is not `Send`. One
// error (two before): only the guard's marker keeps it on its thread. rustc allows no
// `#[diagnostic::on_unimplemented]` on `Send` (a foreign trait), so the "use `get_owned()`"
// hint is in the rustdoc of `lifecycle::Ref`, the type the error names.
fn main() {
    let _ = tokio::spawn(async {
        let url = URL.get();
        connect(&url).await;
    });
}
