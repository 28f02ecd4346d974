//! The module functions over every tracked state: `status`, `stop`, `stop_where`, `graph`.

use crate::coord;
use crate::error::{Error, StopReport};
use crate::graph::Graph;
use crate::info::StateInfo;
use crate::registry::Handle;
use crate::state::stop_timeout;
use crate::stop_worker;
use std::collections::HashSet;

/// The active states (and defined resources), oldest realization first.
///
/// ```
/// for state in lifecycle::status() {
///     println!("{}", state.name());
/// }
/// ```
pub fn status() -> Vec<StateInfo> {
    coord::world()
        .registry
        .iter()
        .map(|(_, handle)| handle.get().info().clone())
        .collect()
}

/// Stops every active state in reverse realization order (a dependent always before what it
/// depends on). Every state is tried even if some fail; the report names what stopped, and
/// the error ([`Error::StopAll`]) lists every failure.
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
    let mut report = StopReport::default();
    let mut tried = HashSet::new();
    // A stop function may start states; pick those up too, but try each state once.
    loop {
        let batch = next_batch(&tried, &pred);
        if batch.is_empty() {
            return report.into_result();
        }
        for (key, handle) in batch {
            tried.insert(key);
            let tracked = handle.get();
            let name = tracked.info().name().to_owned();
            let outcome = if tracked.held_by_current_thread() {
                Err(Error::HeldByCurrentThread {
                    state: name.clone(),
                })
            } else {
                // Waiting for readers and running the stop function are each bounded by the
                // stop timeout; past both, the state is reported and skipped.
                stop_worker::stop_bounded(key, handle.clone(), stop_timeout() * 2)
            };
            match outcome {
                Ok(()) => report.stopped.push(name),
                Err(error) => report.failed.push((name, error)),
            }
        }
    }
}

/// The active states `pred` selects that were not tried yet, dependents before what they
/// depend on and otherwise newest first: what a stop of
/// many states does next. (A stop function may start states; the next batch picks those up.)
pub(crate) fn next_batch(
    tried: &HashSet<usize>,
    pred: &dyn Fn(&StateInfo) -> bool,
) -> Vec<(usize, Handle)> {
    let world = coord::world();
    let mut batch: Vec<_> = world
        .registry
        .iter()
        .filter(|(key, handle)| !tried.contains(key) && pred(handle.get().info()))
        .map(|(key, handle)| (key, handle.clone()))
        .collect();
    batch.reverse();
    world.edges.dependents_first(batch)
}

/// The dependencies recorded so far: an edge for every state whose start read another.
pub fn graph() -> Graph {
    let world = coord::world();
    let realized: Vec<_> = world
        .registry
        .iter()
        .map(|(key, handle)| (key, handle.get().info().clone()))
        .collect();
    world.edges.snapshot(&realized)
}
