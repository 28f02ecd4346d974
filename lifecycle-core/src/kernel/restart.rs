//! The one restart: stop the realized dependents, stop the state, stop what still holds data
//! of its old value, start it, and bring back the dependents that were running.
//!
//! Written once as a future over the registry's handles: async states await it, sync states
//! drive it on their thread (`exec::block_on`), where a sync state's stop and start run
//! when polled.
//!
//! Imports the kernel's `world`, `registry`, `outcome`, `timeout` and the base modules `error`,
//! `exec` and `thread`; must not import `state` or `async_state`, which drive it.

use super::outcome::Restarted;
use super::registry::Handle;
use super::timeout::stop_timeout;
use super::world::{world, Stale};
use crate::error::Error;
use crate::thread::Key;
use std::time::Duration;

/// Restarts `this` (the state `key`); `bring_back`: start again the dependents that were
/// running (`restart`), or leave them to their next use (`restart_alone`).
pub(crate) async fn restart(key: Key, this: &Handle, bring_back: bool) -> Result<Restarted, Error> {
    // A restart asked for clears a supervisor's giving up (the gave-up rule).
    world().clear_gave_up(key);
    restart_with(key, this, dependents(key), bring_back).await
}

/// The states to bring back after a restart of `key`: its realized dependents, in the order
/// to stop them (a supervisor keeps them across restart attempts whose start fails).
pub(crate) fn dependents(key: Key) -> Dependents {
    world().dependents_to_stop(key)
}

/// [`restart`] with the `dependents` to stop first and bring back (stopping one that is not
/// realized any more does nothing; starting one realized does nothing).
pub(crate) async fn restart_with(
    key: Key,
    this: &Handle,
    dependents: Dependents,
    bring_back: bool,
) -> Result<Restarted, Error> {
    let mut restarted = Restarted::default();
    stop_these(&dependents, &mut restarted).await?;
    let was_realized = this.get().is_realized();
    this.get().stop_tracked_async(stop_timeout()).await?;
    if was_realized {
        restarted.stopped.push(name(this));
    }
    // Starts in flight that read the old value end, then stop: no realized state holds data
    // of the stopped value.
    loop {
        let next = world().next_stale(key);
        match next {
            Stale::Done => break,
            Stale::Wait => crate::exec::sleep(Duration::from_millis(1)).await,
            Stale::Stop(handle) => {
                handle.get().stop_tracked_async(stop_timeout()).await?;
                restarted.stopped.push(name(&handle));
            }
        }
    }
    this.get().start_tracked_async(this).await?;
    restarted.started.push(name(this));
    if bring_back {
        self::bring_back(&dependents, &mut restarted).await?;
    }
    Ok(restarted)
}

/// The realized dependents of `key` that a restart or reload stops, as it stops them.
pub(crate) type Dependents = Vec<(Key, Handle)>;

fn name(handle: &Handle) -> String {
    handle.get().info().name().to_owned()
}

/// Stops the realized states whose start read `key` (dependents first, otherwise newest
/// first), recording each in `restarted`; returns them for [`bring_back`].
pub(crate) async fn stop_dependents(
    key: Key,
    restarted: &mut Restarted,
) -> Result<Dependents, Error> {
    let dependents = dependents(key);
    stop_these(&dependents, restarted).await?;
    Ok(dependents)
}

/// Stops `dependents` in the order given, recording those that were realized (a supervisor's
/// retry finds them stopped already; one whose stop failed earlier still reports it).
async fn stop_these(dependents: &Dependents, restarted: &mut Restarted) -> Result<(), Error> {
    for (_, dependent) in dependents {
        let was_realized = dependent.get().is_realized();
        dependent.get().stop_tracked_async(stop_timeout()).await?;
        if was_realized {
            restarted.stopped.push(name(dependent));
        }
    }
    Ok(())
}

/// Starts again, in dependency order, the dependents [`stop_dependents`] stopped (except
/// local states nobody holds any more), recording each in `restarted`.
pub(crate) async fn bring_back(
    dependents: &Dependents,
    restarted: &mut Restarted,
) -> Result<(), Error> {
    for (_, dependent) in dependents.iter().rev().filter(|(_, d)| !d.is_orphan()) {
        dependent.get().start_tracked_async(dependent).await?;
        restarted.started.push(name(dependent));
    }
    Ok(())
}
