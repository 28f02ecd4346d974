//! Waiting in an async test until something another task does shows: bounded, so a hang fails
//! the test instead of stalling the run.

use std::time::{Duration, Instant};

/// How long [`eventually`] waits before it fails the test.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Waits (up to [`PATIENCE`], checking every 2 ms on the tokio timer) until `done` holds;
/// fails with `timed out: {what}` if it does not.
pub async fn eventually(what: &str, done: impl Fn() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(began.elapsed() < PATIENCE, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
