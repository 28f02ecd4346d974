// What `#[lifecycle::test]` cannot wrap: each mistake is one error on its own tokens.

// It adds `#[test]` itself.
#[lifecycle::test]
#[test]
fn twice_a_test() {}

// The runtime's attribute above ours has turned the fn into a sync `#[test]` already.
#[tokio::test]
#[lifecycle::test]
async fn runtime_above() {}

#[lifecycle::test]
fn with_a_parameter(_port: u16) {}

#[lifecycle::test]
fn generic<T>() {}

#[lifecycle::test(craet = lifecycle)]
fn unknown_option() {}

#[lifecycle::test]
struct NotAFunction;

fn main() {}
