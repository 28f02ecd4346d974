//! When each state's last start began and how long it took, and the last error of its
//! starts and stops: what `status()`, `graph()`, `startup_report()` and `health()` show.
//!
//! Pure data kept under the world lock (the world's transitions call [`Timings::begin`],
//! [`Timings::end`] and [`Timings::stop_failed`]); no user code runs here. Part of the
//! kernel.
//!
//! Imports only `thread` (for [`Key`]); must not import `state` or `async_state`.

use crate::thread::Key;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

/// What is known of one state's starts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timing {
    /// The last start: when it began (wall clock, for reports; monotonic, for durations).
    pub(crate) began: Option<(SystemTime, Instant)>,
    /// How long the last start took; `None` while it runs.
    pub(crate) took: Option<Duration>,
    /// When the last start that succeeded ended (uptime counts from here).
    pub(crate) up_since: Option<Instant>,
    /// The message of the last failed start or stop.
    pub(crate) last_error: Option<String>,
    /// How many starts of it have begun: a realization's generation (a supervisor's fail
    /// handle names the one it was made in).
    pub(crate) starts: u64,
}

impl Timing {
    /// `(started_at, start_duration)` of the last start, once it ended.
    pub(crate) fn start(&self) -> Option<(SystemTime, Duration)> {
        Some((self.began?.0, self.took?))
    }
}

#[derive(Default)]
pub(crate) struct Timings(HashMap<Key, Timing>);

impl Timings {
    /// A start of `key` begins now.
    pub(crate) fn begin(&mut self, key: Key) {
        let timing = self.0.entry(key).or_default();
        timing.began = Some((SystemTime::now(), Instant::now()));
        timing.took = None;
        timing.starts += 1;
    }

    /// The start of `key` ended; `failure` is its error's message if it failed.
    pub(crate) fn end(&mut self, key: Key, failure: Option<String>) {
        let timing = self.0.entry(key).or_default();
        let now = Instant::now();
        timing.took = timing
            .began
            .map(|(_, at)| now.saturating_duration_since(at));
        match failure {
            Some(message) => timing.last_error = Some(message),
            None => timing.up_since = Some(now),
        }
    }

    /// A stop of `key` failed with `message`.
    pub(crate) fn stop_failed(&mut self, key: Key, message: &str) {
        self.0.entry(key).or_default().last_error = Some(message.to_owned());
    }

    /// How many starts of `key` have begun (0 if none).
    pub(crate) fn generation(&self, key: Key) -> u64 {
        self.0.get(&key).map_or(0, |timing| timing.starts)
    }

    pub(crate) fn get(&self, key: Key) -> Option<&Timing> {
        self.0.get(&key)
    }

    /// Forgets `key` (a local state was dropped).
    pub(crate) fn forget(&mut self, key: Key) {
        self.0.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_a_start_and_keeps_the_last_error() {
        let mut timings = Timings::default();
        timings.begin(1);
        assert!(timings.get(1).unwrap().start().is_none(), "still running");
        timings.end(1, None);
        let first = timings.get(1).unwrap().clone();
        assert!(first.start().is_some() && first.up_since.is_some());
        timings.begin(1);
        timings.end(1, Some("boom".into()));
        let second = timings.get(1).unwrap();
        assert_eq!(second.last_error.as_deref(), Some("boom"));
        assert_eq!(
            second.up_since, first.up_since,
            "a failed start is no new uptime"
        );
        timings.forget(1);
        assert!(timings.get(1).is_none());
    }
}
