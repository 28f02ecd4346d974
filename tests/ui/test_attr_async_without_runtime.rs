// An async test without a runtime: `lifecycle` starts none, so the runtime's attribute must
// be below `#[lifecycle::test]`.
#[lifecycle::test]
async fn reads_a_state() {}

fn main() {}
