//! Watchpoints: callbacks told about every state's lifecycle events.
//!
//! Imports `error` and `info`; must not import `kernel` (which emits the events) or anything
//! else above the base modules.

use crate::info::StateInfo;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError, RwLock};

/// A lifecycle event of a state, as seen by [`watch`] callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The start function is about to run.
    Starting,
    /// The start function returned a value; the state is realized.
    Started,
    /// The start function failed or panicked (the message says which); the state is unrealized.
    StartFailed(String),
    /// A stop began: no new readers get in; it waits for the ones inside.
    Stopping,
    /// The stop function ran; the state is unrealized and may start again.
    Stopped,
    /// The stop function failed or panicked (the message says which).
    StopFailed(String),
    /// `redefine` was skipped because the state is active.
    RedefineSkipped,
    /// A reload swapped a new value in: the old one is stopped and the dependents that were
    /// running started again against the new one.
    Reloaded,
    /// A reload failed (the message says why); the old value keeps serving.
    ReloadFailed(String),
    /// A supervised state failed (its value reported it, or its check returned an error;
    /// the message says which): its supervisor restarts it after the backoff.
    Failed(String),
    /// A supervisor's restart attempt of a failed state begins.
    Restarting {
        /// 1 for the first attempt after a failure; one more for each attempt whose start
        /// failed.
        attempt: u32,
        /// How long the supervisor waited before this attempt.
        backoff: std::time::Duration,
    },
    /// A supervised state failed too often and its supervisor gave up (the message says
    /// how often and the last error); see [`Status::GaveUp`](crate::Status::GaveUp).
    GaveUp(String),
    // Hot reload (issue 16).
    /// A hot patch changed the state's start or stop function and the state was restarted
    /// with the new code (feature `hot`); `since_patch`: from the patch landing to the state
    /// serving again.
    HotRestarted {
        /// From the patch landing to the state (and its dependents) serving again.
        since_patch: std::time::Duration,
    },
}

type Callback = Arc<dyn Fn(&Event, &StateInfo) + Send + Sync>;

static WATCHERS: RwLock<Vec<(String, Callback)>> = RwLock::new(Vec::new());

/// Calls `f(&event, &state)` for every lifecycle event of every state, until [`unwatch`]`(key)`.
///
/// Watching again under the same key replaces the callback. Callbacks run on the thread that
/// caused the event, outside the library's locks, so they may use states; a panicking callback
/// is caught and logged and does not affect the state.
///
/// ```
/// use lifecycle::{watch, unwatch, Event, StateInfo};
/// watch("log", |event: &Event, state: &StateInfo| println!("{} {event:?}", state.name()));
/// unwatch("log");
/// ```
pub fn watch(key: impl Into<String>, f: impl Fn(&Event, &StateInfo) + Send + Sync + 'static) {
    let key = key.into();
    let callback: Callback = Arc::new(f);
    let mut watchers = WATCHERS.write().unwrap_or_else(PoisonError::into_inner);
    match watchers.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = callback,
        None => watchers.push((key, callback)),
    }
}

/// Removes the watch registered under `key`; returns whether there was one.
pub fn unwatch(key: &str) -> bool {
    let mut watchers = WATCHERS.write().unwrap_or_else(PoisonError::into_inner);
    let before = watchers.len();
    watchers.retain(|(k, _)| k != key);
    watchers.len() != before
}

/// Tells every watcher (and `tracing`) about `event`.
pub(crate) fn emit(event: &Event, state: &StateInfo) {
    match event {
        Event::StartFailed(message)
        | Event::StopFailed(message)
        | Event::ReloadFailed(message)
        | Event::Failed(message) => {
            tracing::warn!(state = %state.name(), ?event, "{message}");
        }
        Event::RedefineSkipped => {
            tracing::warn!(state = %state.name(), "redefine skipped: the state is active; stop it first");
        }
        Event::Reloaded => tracing::info!(state = %state.name(), "reloaded"),
        _ => tracing::debug!(state = %state.name(), ?event, "lifecycle"),
    }
    // Snapshot, so callbacks may watch/unwatch without deadlocking.
    let callbacks: Vec<Callback> = WATCHERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(_, callback)| Arc::clone(callback))
        .collect();
    for callback in callbacks {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(event, state))) {
            tracing::error!(
                state = %state.name(),
                "a watch callback panicked: {}",
                crate::error::panic_message(&*payload)
            );
        }
    }
}
