//! [`health`] and [`health_of`]: a framework-neutral health report of the states — liveness,
//! readiness, and each state's status, uptime, restart count and last error — as plain data
//! with `Display` (and `serde::Serialize` with the `serde` feature).
//!
//! Reads the world (registry, phases, timings), `declared` and the supervisor's records.
//!
//! Imports `declared`, `info`, `kernel`, `status`, `supervise` and `thread`; must not import the
//! drivers (`state`, `async_state`).

use crate::declared::declared;
use crate::info::StateInfo;
use crate::kernel::{self, timings::Timing};
use crate::status::Status;
use crate::supervise::driver;
use crate::thread::Key;
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

/// The health of the process, from [`health`] or [`health_of`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Health {
    /// The process is live (an orchestrator should not restart it): no supervised state has
    /// given up ([`Status::GaveUp`]).
    pub live: bool,
    /// Every state that readiness counts ([`StateHealth::required`]) is realized, is not
    /// failing (a supervised state that failed is not ready until its restart succeeds),
    /// and its last check passed.
    pub ready: bool,
    /// The states readiness counts that are not realized (or not known), by name.
    pub not_ready: Vec<String>,
    /// Every tracked state (oldest realization first), then every declared state that is
    /// not tracked, by name.
    pub states: Vec<StateHealth>,
}

/// One state in a [`Health`] report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct StateHealth {
    /// The state's name.
    pub name: String,
    /// What it is doing (in JSON: its name in snake case, `"realized"`).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::status"))]
    pub status: Status,
    /// How long it has been realized (in JSON: seconds, or `null`).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::seconds"))]
    pub uptime: Option<Duration>,
    /// How many times its supervisor restarted it.
    pub restarts: u32,
    /// The message of its last failure, failed check, or failed start or stop, if any.
    pub last_error: Option<String>,
    /// Readiness counts this state.
    pub required: bool,
}

/// The health report, readiness counting every state tagged `meta(ready = "true")` (declared
/// or tracked); with none tagged, the process is ready.
///
/// ```
/// let health = lifecycle::health();
/// assert!(health.live);
/// println!("{health}");
/// ```
pub fn health() -> Health {
    report(&|info: &StateInfo| info.meta("ready") == Some("true"), &[])
}

/// The health report, readiness counting the states named in `names` (a name that is not
/// a known state is not ready).
///
/// ```
/// let health = lifecycle::health_of(&["docs/health/nowhere"]);
/// assert!(!health.ready);
/// assert_eq!(health.not_ready, ["docs/health/nowhere"]);
/// ```
pub fn health_of(names: &[&str]) -> Health {
    report(&|info: &StateInfo| names.contains(&info.name()), names)
}

fn report(required: &dyn Fn(&StateInfo) -> bool, names: &[&str]) -> Health {
    let declared = declared();
    let mut states = Vec::new();
    let mut unready: HashSet<String> = HashSet::new();
    let mut seen: HashSet<Key> = HashSet::new();
    let live = !kernel::world().any_gave_up();
    {
        let world = kernel::world();
        let entry = |key: Key, info: &StateInfo, realized: bool| {
            let status = world.status(key, realized);
            let timing = world.timings.get(key);
            StateHealth {
                name: info.name().to_owned(),
                status,
                uptime: timing
                    .and_then(|t| t.up_since)
                    .filter(|_| status == Status::Realized)
                    .map(|since| since.elapsed()),
                restarts: 0,
                last_error: timing.and_then(|t: &Timing| t.last_error.clone()),
                required: required(info),
            }
        };
        let mut keys = Vec::new();
        for (key, handle) in world.registry.iter() {
            let tracked = handle.get();
            seen.insert(key);
            states.push(entry(key, tracked.info(), tracked.is_realized()));
            keys.push(key);
        }
        for state in &declared {
            if seen.insert(state.key()) {
                states.push(entry(state.key(), state.info(), state.is_realized()));
                keys.push(state.key());
            }
        }
        drop(world);
        // The supervisor's table is read after the world's lock is released.
        for (state, key) in states.iter_mut().zip(keys) {
            if let Some(supervised) = driver::supervised(key) {
                state.restarts = supervised.restarts;
                if supervised.last_error.is_some() {
                    state.last_error = supervised.last_error;
                }
                if supervised.unready {
                    unready.insert(state.name.clone());
                }
            }
        }
    }
    let mut not_ready: Vec<String> = states
        .iter()
        .filter(|s| s.required && (s.status != Status::Realized || unready.contains(&s.name)))
        .map(|s| s.name.clone())
        .collect();
    for name in names {
        if !states.iter().any(|s| s.name == *name) && !not_ready.iter().any(|n| n == name) {
            not_ready.push((*name).to_owned());
        }
    }
    Health {
        live,
        ready: not_ready.is_empty(),
        not_ready,
        states,
    }
}

/// A status as reports write it: `realized`, `stop_failed`.
pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Unrealized => "unrealized",
        Status::Starting => "starting",
        Status::Realized => "realized",
        Status::Stopping => "stopping",
        Status::StopFailed => "stop_failed",
        Status::GaveUp => "gave_up",
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        write!(f, "live: {}, ready: {}", yes(self.live), yes(self.ready))?;
        if !self.not_ready.is_empty() {
            write!(f, " (not ready: {})", self.not_ready.join(", "))?;
        }
        for state in &self.states {
            write!(f, "\n  {state}")?;
        }
        Ok(())
    }
}

impl fmt::Display for StateHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, status_name(self.status))?;
        if let Some(uptime) = self.uptime {
            write!(f, ", up {:.1} s", uptime.as_secs_f64())?;
        }
        if self.restarts > 0 {
            write!(f, ", {} restarts", self.restarts)?;
        }
        if self.required {
            f.write_str(", required for readiness")?;
        }
        if let Some(error) = &self.last_error {
            write!(f, ", last error: {error}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod ser {
    use crate::status::Status;
    use std::time::Duration;

    pub(super) fn status<S: serde::Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::status_name(*status))
    }

    pub(super) fn seconds<S: serde::Serializer>(
        uptime: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match uptime {
            Some(uptime) => s.serialize_f64(uptime.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}
