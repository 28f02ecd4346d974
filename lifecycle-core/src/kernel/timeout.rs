//! The stop timeout, and the one backstop formula for callers that bound a whole stop.
//! Part of the kernel.
//!
//! Imports nothing from the crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static STOP_TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);

/// How long `stop` waits for outstanding guards and handles before it reports
/// [`Error::StillInUse`](crate::Error::StillInUse). The default is 10 seconds.
pub fn set_stop_timeout(timeout: Duration) {
    STOP_TIMEOUT_MS.store(
        u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// The current stop timeout (see [`set_stop_timeout`]).
pub fn stop_timeout() -> Duration {
    Duration::from_millis(STOP_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// How long a caller waits for a whole stop bounded by `per_state` (waiting for guards, then
/// the stop function, each at most `per_state`) before it gives up on it: both bounds and a
/// second of slack, for stops that never wake their task or never return.
pub(crate) fn backstop(per_state: Duration) -> Duration {
    per_state
        .saturating_mul(2)
        .saturating_add(Duration::from_secs(1))
}
