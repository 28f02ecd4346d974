//! [`Supervise`]: how a state is supervised — the backoff range, the restart intensity and
//! how often its check runs. Plain data.
//!
//! Imports nothing from the crate; must not import `state`, `async_state`, `health`, `shutdown`
//! or `private`.

use std::time::Duration;

/// How a supervised state is restarted when it fails: the bounds of the backoff between
/// attempts, the restart intensity (`max_restarts` failures within `within`; one more gives
/// up), and how often its check runs.
///
/// The defaults are those of `#[defstate(supervise)]`: backoff `100ms..5s`,
/// `max_restarts = 5`, `within = "60s"`, `interval = "5s"`.
///
/// ```
/// use lifecycle::{State, Supervise};
/// use std::time::Duration;
///
/// let server = State::new("doc-supervise::server", || Ok(8080_u16)).supervise(
///     Supervise::new()
///         .backoff(Duration::from_millis(10), Duration::from_secs(1))
///         .max_restarts(3)
///         .within(Duration::from_secs(10)),
/// );
/// assert_eq!(*server.get(), 8080);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervise {
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
    pub(crate) interval: Duration,
}

impl Default for Supervise {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervise {
    /// The defaults: backoff from 100 ms to 5 s, at most 5 restarts within 60 s, a check
    /// every 5 s.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            max_restarts: 5,
            within: Duration::from_secs(60),
            interval: Duration::from_secs(5),
        }
    }

    /// The backoff before restart attempt *n* grows as `min * 2^(n-1)` (with jitter) and
    /// stays within `min..=max` (`max` below `min` counts as `min`).
    #[must_use]
    pub const fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = if max.as_nanos() < min.as_nanos() { min } else { max };
        self
    }

    /// More than `max_restarts` failures within [`within`](Self::within) gives up
    /// ([`Status::GaveUp`](crate::Status::GaveUp)); `0` gives up on the first failure.
    #[must_use]
    pub const fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The window of the restart intensity.
    #[must_use]
    pub const fn within(mut self, within: Duration) -> Self {
        self.within = within;
        self
    }

    /// How often the state's check runs while it is realized (ignored without a check).
    #[must_use]
    pub const fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}
