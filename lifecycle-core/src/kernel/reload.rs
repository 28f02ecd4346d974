//! The one reload: start a new value beside the old one while readers keep reading the old;
//! only if that start succeeds, stop the running dependents, swap the new value in, stop the
//! old one, and bring the dependents back against the new one.
//!
//! Written once as a future over a [`Swap`] — what a driver (sync `state/`, async
//! `async_state/`) does its own way: run its start without publishing, wait for the stop
//! right and for its readers to drain, run its stop on a value that is no longer the
//! state's. The exchange of values under the stop right, and giving that right back when a
//! swap is dropped midway, are written here once. The dependents go through `restart`'s
//! [`stop_dependents`] and [`bring_back`].
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
//!
//! Imports `error`, `info`, `thread` and `watch`; must not import `state` or `async_state`.

use super::cell::ValueCell;
use super::outcome::Restarted;
use super::phases::Ticket;
use super::registry::{BoxFuture, Tracked};
use super::restart::{bring_back, stop_dependents};
use super::timeout::stop_timeout;
use super::world::{self, Granted};
use crate::error::Error;
use crate::info::StateInfo;
use crate::thread::Key;
use crate::watch::{emit, Event};
use std::time::Duration;

/// What became of a swap ([`swap`]).
pub(crate) enum Swapped<V> {
    /// The new value is in; here is the old one, for its stop function.
    Old(V),
    /// The state was not realized (stopped while the new value started): nothing swapped;
    /// here is the new value back.
    NotRealized(V),
    /// The stop right or the readers' drain failed: nothing swapped; the new value back.
    Failed(Error, V),
}

/// What the reload engine asks of a driver: the parts that wait or run user code, each its
/// own way (its name and whether it is realized come from [`Tracked`], which every driver's
/// core already is).
pub(crate) trait Swap: Tracked {
    type Value: Send + 'static;

    /// Runs the start function for a new value, without publishing it.
    fn start_new(&self) -> BoxFuture<'_, Result<Self::Value, Error>>;
    /// The state's key and the cell the swap exchanges values in.
    fn place(&self) -> (Key, &ValueCell<Self::Value>);
    /// Asks the world for the stop right (`Want::Stop`, not forced), waiting as the driver
    /// waits.
    fn stop_right(&self) -> BoxFuture<'_, Result<Granted, Error>>;
    /// After `begin_stop`: waits up to `timeout` until no reader is inside.
    fn drain(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>>;
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
    let (key, _) = state.place();
    let _reading = Reading::begin(key, info);
    let new = match state.start_new().await {
        Ok(new) => new,
        Err(error) => return Err(failed(info, error)),
    };
    let dependents = match stop_dependents(key, &mut restarted).await {
        Ok(dependents) => dependents,
        Err(error) => {
            discard(state, new).await;
            return Err(failed(info, error));
        }
    };
    let name = info.name().to_owned();
    let error = match swap(state, new, stop_timeout()).await {
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

/// Takes the stop right, closes the cell to new readers, waits up to `timeout` for the ones
/// inside, and exchanges `new` for the old value.
async fn swap<S: Swap>(state: &S, new: S::Value, timeout: Duration) -> Swapped<S::Value> {
    let ticket = match state.stop_right().await {
        Ok(Granted::Stop(ticket)) => ticket,
        Ok(_) => return Swapped::NotRealized(new),
        Err(error) => return Swapped::Failed(error, new),
    };
    let (key, cell) = state.place();
    // From here to the end no `.await` but the drain's: a swap dropped while it drains (its
    // task was cancelled) gives the stop right back, never with the cell half-swapped.
    let mut right = Draining {
        key,
        cell,
        ticket: Some(ticket),
    };
    cell.begin_stop();
    if let Err(error) = state.drain(timeout).await {
        drop(right);
        return Swapped::Failed(error, new);
    }
    right.ticket = None;
    // SAFETY: we hold the stop right (`ticket`), `begin_stop` ran, and the drain saw every
    // reader gone (`readers::inside_anywhere` over every thread's counts and every owned
    // guard's): no one reads the slot, and after `take` it is unrealized under our exclusive
    // right, which is what `publish` needs.
    let old = unsafe {
        let old = cell.take();
        cell.publish(new);
        old
    };
    world::conclude_swap(key, ticket, true);
    Swapped::Old(old)
}

/// The stop right of a swap while its readers drain: dropped before the exchange, it gives
/// the right back (the value stays and the cell is reopened to readers).
struct Draining<'a, V> {
    key: Key,
    cell: &'a ValueCell<V>,
    ticket: Option<Ticket>,
}

impl<V> Drop for Draining<'_, V> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.cell.cancel_stop();
            world::conclude_swap(self.key, ticket, false);
        }
    }
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
