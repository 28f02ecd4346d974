//! The module functions over every tracked state: `status`, `stop`, `stop_where`, `graph`.
//!
//! Imports `error`, `info`, `kernel`, `stop_worker` and `thread`; must not import the drivers
//! (`state`, `async_state`), which reach states only through the registry's handles, nor
//! `report`, `start_all` or `shutdown`, which are built on it.

use crate::error::{Error, StopReport};
use crate::info::StateInfo;
use crate::kernel::timings::Timing;
use crate::kernel::{self, stop_timeout, Graph, Handle};
use crate::stop_worker;
use crate::thread::{self, Key};
use std::collections::HashSet;
use std::time::Duration;

/// The active states (and defined resources), oldest realization first, each with what it
/// is doing ([`StateInfo::status`]): a state whose stop failed stays listed, as
/// [`Status::StopFailed`](crate::Status::StopFailed), until `force_close` clears it.
///
/// ```
/// for state in lifecycle::status() {
///     println!("{} {:?}", state.name(), state.status());
/// }
/// ```
pub fn status() -> Vec<StateInfo> {
    let world = kernel::world();
    world
        .registry
        .iter()
        .map(|(key, handle)| {
            let tracked = handle.get();
            let status = world.status(key, tracked.is_realized());
            let start = world.timings.get(key).and_then(Timing::start);
            tracked.info().clone().with_status(status).with_start(start)
        })
        .collect()
}

/// Stops every active state in reverse realization order (a dependent always before what it
/// depends on). Every state is tried even if some fail; the report names what stopped, and
/// the error ([`Error::StopAll`]) lists every failure.
///
/// Each stop function runs with the calling thread's [`bind`](crate::State::bind)ings, as if
/// it were called here, so a teardown between tests reaches the bound values and never
/// starts the real ones. Called from a stop function, it skips the state that function is
/// stopping ([`StopReport::skipped`]): that stop finishes it.
pub fn stop() -> Result<StopReport, Error> {
    stop_where(|_| true)
}

/// Like [`stop()`], for the active states for which `pred` is true — a bucket of states, for
/// example by meta data.
///
/// ```
/// lifecycle::stop_where(|state| state.meta("bucket") == Some("web")).unwrap();
/// ```
pub fn stop_where(pred: impl Fn(&StateInfo) -> bool) -> Result<StopReport, Error> {
    stop_inner(&pred, stop_timeout())
}

/// Like [`stop()`], giving each state at most `per_state`: that long for its guards to be
/// released, and that long again for its stop function, after which it is reported
/// ([`Error::StopTimedOut`]) and the next state is tried. The sync twin of
/// [`stop_async_within`](crate::stop_async_within).
///
/// ```
/// use std::time::Duration;
/// let report = lifecycle::stop_within(Duration::from_secs(1)).unwrap();
/// println!("stopped {:?}", report.stopped);
/// ```
pub fn stop_within(per_state: Duration) -> Result<StopReport, Error> {
    stop_inner(&|_| true, per_state)
}

fn stop_inner(pred: &dyn Fn(&StateInfo) -> bool, per_state: Duration) -> Result<StopReport, Error> {
    let mut report = StopReport::default();
    let mut tried = HashSet::new();
    // A stop function may start states; pick those up too, but try each state once.
    loop {
        let batch = next_batch(&tried, pred);
        if batch.is_empty() {
            return report.into_result();
        }
        for (key, handle) in batch {
            tried.insert(key);
            if settled_here(key, &handle, &mut report) {
                continue;
            }
            let name = handle.get().info().name().to_owned();
            // Waiting for readers and running the stop function are each bounded by
            // `per_state`; past both, the state is reported and skipped.
            match stop_worker::stop_bounded(key, handle, per_state) {
                Ok(()) => report.stopped.push(name),
                Err(error) => report.failed.push((name, error)),
            }
        }
    }
}

/// What a stop of many states decides without stopping `handle` (sync and async alike):
/// skipped if this thread is stopping it already (a stop function that stops everything),
/// failed if this thread holds a guard of it (waiting would never end). True if settled.
pub(crate) fn settled_here(key: Key, handle: &Handle, report: &mut StopReport) -> bool {
    let tracked = handle.get();
    let name = || tracked.info().name().to_owned();
    if thread::activity(key).is_some() {
        report.skipped.push(name());
        true
    } else if tracked.held_by_current_thread() {
        let error = Error::HeldByCurrentThread { state: name() };
        report.failed.push((name(), error));
        true
    } else {
        false
    }
}

/// The active states `pred` selects that were not tried yet, dependents before what they
/// depend on and otherwise newest first: what a stop of
/// many states does next. (A stop function may start states; the next batch picks those up.)
pub(crate) fn next_batch(
    tried: &HashSet<usize>,
    pred: &dyn Fn(&StateInfo) -> bool,
) -> Vec<(usize, Handle)> {
    let world = kernel::world();
    let mut batch: Vec<_> = world
        .registry
        .iter()
        .filter(|(key, handle)| !tried.contains(key) && pred(handle.get().info()))
        .map(|(key, handle)| (key, handle.clone()))
        .collect();
    batch.reverse();
    world.edges.dependents_first(batch)
}

/// The dependencies recorded so far: an edge for every state whose start read another. Each
/// node carries the timing of its last start ([`StateInfo::start_duration`]).
pub fn graph() -> Graph {
    let world = kernel::world();
    let realized: Vec<_> = world
        .registry
        .iter()
        .map(|(key, handle)| (key, handle.get().info().clone()))
        .collect();
    let timed = |key, info: &StateInfo| {
        let start = world.timings.get(key).and_then(Timing::start);
        info.clone().with_start(start)
    };
    world.edges.snapshot(&realized, &timed)
}
