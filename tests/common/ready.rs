//! Readiness over HTTP, for the end-to-end tests of the examples (`tests/e2e` has the client):
//! included by them with `#[path]`, beside `mod e2e`, not through `common/mod.rs`.

use crate::e2e::get;
use std::time::{Duration, Instant};

/// The body of `/readyz` once it answers 200 (within 5 s, else the test fails).
pub fn ready_soon(port: u16) -> String {
    let began = Instant::now();
    loop {
        let ready = get(port, "/readyz");
        if ready.status == 200 {
            return ready.body.trim().to_owned();
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "not ready: {ready:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
