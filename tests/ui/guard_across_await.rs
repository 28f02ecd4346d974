use lifecycle::prelude::*;

#[defstate]
static URL: String = String::from("tcp://db");

async fn connect(_url: &str) {}

// A sync guard (`Ref`) held across `.await` in a spawned task: the task is not `Send`.
// Two errors today, one per non-`Send` field of `Ref`; `#[diagnostic::on_unimplemented]`
// cannot be put on `Send`, so a "use `get_owned()`" hint needs a marker field in `Ref`
// whose name says it (kernel work).
fn main() {
    let _ = tokio::spawn(async {
        let url = URL.get();
        connect(&url).await;
    });
}
