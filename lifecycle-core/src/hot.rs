//! After a hot patch: restart the realized states whose start or stop function the patch
//! changed, with their dependents, and leave every other state running (feature `hot`).
//!
//! Imports the kernel (its registry, world and the one restart), `code` (the installed jump
//! table) and the base modules `error`, `exec`, `thread` and `watch`.
//!
//! Which states changed is decided by [`changed`] alone, from the jump table before and after
//! the patch through the [`JumpTable`] trait, so tests can feed a synthetic table.

use crate::code::{self, Map};
use crate::error::Error;
use crate::kernel::{self, Handle, Restarted};
use crate::thread::Key;
use crate::watch::{emit, Event};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A jump table as [`changed`] reads it: where the address of a function of the running
/// program leads after a patch.
pub trait JumpTable {
    /// The address `address` now leads to; `None` if the table does not have it.
    fn target(&self, address: u64) -> Option<u64>;
}

impl<S: BuildHasher> JumpTable for HashMap<u64, u64, S> {
    fn target(&self, address: u64) -> Option<u64> {
        self.get(&address).copied()
    }
}

/// True if the function at `address` leads to other code after the patch than before it.
///
/// `subsecond`'s tables hold every function of the crates a patch rebuilt, changed or not
/// (see `docs/hot-reload.md`), so this is true for every start and stop function of those
/// crates: they restart on every patch of their crate.
pub fn changed(before: &dyn JumpTable, after: &dyn JumpTable, address: u64) -> bool {
    let now = after.target(address);
    now.is_some() && now != before.target(address)
}

/// What a hot patch restarted: [`apply`]'s answer.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct HotReport {
    /// The realized states whose start or stop function the patch changed, oldest first.
    pub changed: Vec<String>,
    /// Every state stopped and started again, dependents included, in order.
    pub restarted: Restarted,
    /// The restarts that failed, each naming its state; such a state is left unrealized (its
    /// start failed: a `StartFailed` event said so) or failed to stop (`StopFailed`).
    pub errors: Vec<Error>,
    /// From the patch landing to the last restarted state serving again.
    pub took: Duration,
}

/// Makes `table` the jump table start and stop functions are called through, then restarts
/// each realized state whose start or stop function it [`changed`] — once, with the
/// dependents that were running (dependents stop first and come back after), oldest first.
/// Every other state keeps running. `landed`: when the patch arrived (the times reported
/// count from it).
///
/// Each restart emits [`Event::HotRestarted`] and logs one `tracing` INFO line with the time
/// since `landed`; a failed one is in [`HotReport::errors`] and logged at ERROR.
///
/// # Safety
///
/// Every entry of `table` must map the address of a function of this program to the address
/// of a function of the same signature that stays loaded: a `subsecond` jump table (its patch
/// libraries are never unloaded), or, in tests, functions of the program itself.
pub unsafe fn apply<S: BuildHasher>(table: &HashMap<u64, u64, S>, landed: Instant) -> HotReport {
    let after: Arc<Map> = Arc::new(table.iter().map(|(&from, &to)| (from, to)).collect());
    // SAFETY: passed on from this function's contract.
    let before = unsafe { code::install(Arc::clone(&after)) }.unwrap_or_default();
    let mut report = HotReport::default();
    let mut done = HashSet::new();
    for (key, handle) in changed_states(&*before, &*after) {
        if !done.insert(key) {
            continue; // restarted already, as a dependent of an earlier one
        }
        let name = handle.get().info().name().to_owned();
        report.changed.push(name.clone());
        done.extend(kernel::world().dependents_to_stop(key).into_iter().map(|(k, _)| k));
        let restart = kernel::restart::restart(key, &handle, true);
        let outcome = crate::exec::block_on(restart, Duration::MAX);
        let since_patch = landed.elapsed();
        match outcome.expect("a restart without a deadline ends") {
            Ok(restarted) => {
                tracing::info!(
                    state = %name,
                    stopped = ?restarted.stopped,
                    started = ?restarted.started,
                    "hot restart: {name} serves the patched code {:.1} ms after the patch",
                    since_patch.as_secs_f64() * 1e3,
                );
                emit(&Event::HotRestarted { since_patch }, handle.get().info());
                report.restarted.stopped.extend(restarted.stopped);
                report.restarted.started.extend(restarted.started);
            }
            Err(error) => {
                tracing::error!(state = %name, "hot restart of {name} failed: {error}");
                report.errors.push(error);
            }
        }
    }
    report.took = landed.elapsed();
    report
}

/// The addresses of the start and stop functions of the realized states named `name`, as a
/// jump table knows them: what a table must have to change them (tools and tests that build
/// tables use it).
pub fn code_of(name: &str) -> Vec<u64> {
    let realized: Vec<Handle> = {
        let world = kernel::world();
        let named = world.registry.iter().filter(|(_, h)| h.get().info().name() == name);
        named.map(|(_, handle)| handle.clone()).collect()
    };
    realized.iter().flat_map(|handle| handle.get().code()).collect()
}

/// The realized states with a start or stop function `after` changed, oldest first.
fn changed_states(before: &dyn JumpTable, after: &dyn JumpTable) -> Vec<(Key, Handle)> {
    // The handles are taken under the world lock; their definitions are read after it.
    let realized: Vec<(Key, Handle)> = {
        let world = kernel::world();
        world
            .registry
            .iter()
            .filter(|(_, handle)| handle.get().is_realized())
            .map(|(key, handle)| (key, handle.clone()))
            .collect()
    };
    realized
        .into_iter()
        .filter(|(_, handle)| {
            let code = handle.get().code();
            code.into_iter().any(|address| changed(before, after, address))
        })
        .collect()
}

/// Restarts what each `subsecond` patch changed: registers a handler that [`apply`]s the
/// patch's jump table. `enter` runs each application (give it the context the starts need,
/// such as a tokio runtime's `Handle::enter`).
pub fn on_patch(enter: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static) {
    subsecond::register_handler(Arc::new(move || {
        let landed = Instant::now();
        // SAFETY: subsecond calls its handlers right after committing a table, which it never
        // frees; the table maps functions of this program to those of the patch it loaded.
        let Some(table) = (unsafe { subsecond::get_jump_table() }) else {
            return;
        };
        enter(&mut || {
            // SAFETY: a subsecond jump table: its patch library is leaked, never unloaded.
            let report = unsafe { apply(&table.map, landed) };
            tracing::debug!(?report, "hot patch applied");
        });
    }));
}
