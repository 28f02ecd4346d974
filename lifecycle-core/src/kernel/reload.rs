//! The one reload: start a new value beside the old one while readers keep reading the old;
//! only if that start succeeds, stop the running dependents, swap the new value in, stop the
//! old one, and bring the dependents back against the new one.
//!
//! Written once as a future over a [`Swap`] — what a driver (sync `state/`, async
//! `async_state/`) does with its own cell: run its start without publishing, exchange values
//! under a stop right, run its stop on a value that is no longer the state's. The dependents
//! go through `restart`'s [`stop_dependents`] and [`bring_back`]. Imports the kernel's
//! `restart`, `outcome`, `registry`, `timeout`, `world` and the base modules `error`, `info`,
//! `thread`, `watch`.
//!
//! # Rules
//!
//! * What the new start reads becomes the state's recorded dependencies when (and only
//!   when) its value goes in; until then the old value's dependencies stand.
//! * No lock is held while user code runs: the new start runs with no phase (the state
//!   stays `Realized`, readers see the old value); the swap holds the state's stop right only
//!   while readers drain and two values are exchanged.
//! * A failed new start touches nothing: the error is returned, logged and reported as
//!   [`Event::ReloadFailed`]; the old value keeps serving.
//! * A swap that cannot happen (the state was stopped meanwhile, a guard outlives the stop
//!   timeout, its stop failed earlier) stops the new value, brings the dependents back
//!   against the old one (if there still is one) and returns the error.
//! * Racing reloads of one state each swap their own value in, one after the other; the
//!   last swap wins and each stops the value it replaced.

use super::outcome::Restarted;
use super::registry::{BoxFuture, Tracked};
use super::restart::{bring_back, stop_dependents};
use super::timeout::stop_timeout;
use super::world;
use crate::error::Error;
use crate::info::StateInfo;
use crate::thread::Key;
use crate::watch::{emit, Event};
use std::time::Duration;

/// What became of a swap ([`Swap::swap`]).
pub(crate) enum Swapped<V> {
    /// The new value is in; here is the old one, for its stop function.
    Old(V),
    /// The state was not realized (stopped while the new value started): nothing swapped;
    /// here is the new value back.
    NotRealized(V),
    /// The stop right or the readers' drain failed: nothing swapped; the new value back.
    Failed(Error, V),
}

/// What the reload engine asks of a driver, over its own value cell (its name and whether
/// it is realized come from [`Tracked`], which every driver's core already is).
pub(crate) trait Swap: Tracked {
    type Value: Send + 'static;

    fn key(&self) -> Key;
    /// Runs the start function for a new value, without publishing it.
    fn start_new(&self) -> BoxFuture<'_, Result<Self::Value, Error>>;
    /// Takes the stop right, closes the cell to new readers, waits up to `timeout` for the
    /// ones inside, and exchanges `new` for the old value.
    fn swap(&self, new: Self::Value, timeout: Duration) -> BoxFuture<'_, Swapped<Self::Value>>;
    /// Runs the stop function on a value that is not (or no longer) the state's.
    fn stop_value(&self, value: Self::Value) -> BoxFuture<'_, Option<Error>>;
}

/// Reloads `state`. An unrealized state is left alone:
/// the result is empty (its next start reads the new configuration anyway).
pub(crate) async fn reload<S: Swap>(state: &S) -> Result<Restarted, Error> {
    let mut restarted = Restarted::default();
    if !state.is_realized() {
        return Ok(restarted);
    }
    let info = state.info();
    // What the new start reads becomes the state's dependencies only if its value goes in.
    let _reading = Reading::begin(state.key(), info);
    let new = match state.start_new().await {
        Ok(new) => new,
        Err(error) => return Err(failed(info, error)),
    };
    let dependents = match stop_dependents(state.key(), &mut restarted).await {
        Ok(dependents) => dependents,
        Err(error) => {
            discard(state, new).await;
            return Err(failed(info, error));
        }
    };
    let name = info.name().to_owned();
    let error = match state.swap(new, stop_timeout()).await {
        Swapped::Old(old) => {
            restarted.stopped.push(name.clone());
            restarted.started.push(name);
            // The reload happened: a failing old stop is reported (event, log), not returned.
            let _ = state.stop_value(old).await;
            None
        }
        Swapped::NotRealized(new) => {
            discard(state, new).await;
            Some(Error::ReloadAbandoned { state: name })
        }
        Swapped::Failed(error, new) => {
            discard(state, new).await;
            Some(error)
        }
    };
    let back = bring_back(&dependents, &mut restarted).await;
    if let Some(error) = error {
        return Err(failed(info, error));
    }
    back.map_err(|error| failed(info, error))?;
    emit(&Event::Reloaded, info);
    Ok(restarted)
}

/// Keeps what a reload's new start reads aside (`world::begin_reload`) until dropped.
struct Reading(Key);

impl Reading {
    fn begin(key: Key, info: &StateInfo) -> Self {
        world::begin_reload(key, info);
        Reading(key)
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        world::end_reload(self.0);
    }
}

/// Stops a new value that did not go in.
async fn discard<S: Swap>(state: &S, new: S::Value) {
    let _ = state.stop_value(new).await;
}

/// The error of a failed reload, reported.
fn failed(info: &StateInfo, error: Error) -> Error {
    let error = Error::Reload {
        state: info.name().to_owned(),
        source: Box::new(error),
    };
    emit(&Event::ReloadFailed(error.to_string()), info);
    error
}
