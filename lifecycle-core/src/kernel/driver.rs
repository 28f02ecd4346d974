//! A state's core, whatever its flavour: [`StateCore`] (its identity, value cell, reader id
//! and start and stop functions), how it is keyed and dropped, and what the registry knows of
//! it ([`Tracked`]), written once over [`Driver`] — how a flavour waits and calls user code.
//! The drivers name their cores `StateCore<T, Blocking>` (`state/`) and
//! `StateCore<T, Polled>` (`async_state/`) and implement [`Flavour`] and [`Driver`].
//!
//! Imports `error`, `info` and `thread`; must not import `state` or `async_state`.

use super::cell::ValueCell;
use super::phases::StopClaim;
use super::readers::{self, ReaderId};
use super::registry::{BoxFuture, Handle, Tracked};
use super::reload::{self, Swap};
use super::restarted::Restarted;
use super::timeout::stop_timeout;
use super::world;
use crate::error::Error;
use crate::info::StateInfo;
use crate::thread::Key;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A flavour of state (sync or async): the type of its start and stop functions.
pub(crate) trait Flavour: 'static {
    /// Its start and stop functions, replaceable under the core's lock (`redefine`).
    type Definition<T>;
    /// True for async states.
    const ASYNC: bool;
}

/// The shared part of a state: statics keep it in a hidden `static`, local states in an
/// `Arc`. Its address is the state's key in the world.
// The flavour's trait stays the crate's: generated code names only the drivers' aliases.
#[allow(private_bounds)]
pub struct StateCore<T, F: Flavour> {
    pub(crate) info: StateInfo,
    pub(crate) cell: ValueCell<T>,
    /// Index into the per-thread reader tables; 0 until first read.
    reader_id: ReaderId,
    definition: Mutex<F::Definition<T>>,
}

/// What a stop is asked to do: `force` it (clear the state even if its stop function fails),
/// wait up to `timeout` for readers, and give its ticket to `claim` (a caller that may give
/// up on it, see `stop_worker`).
#[derive(Clone, Copy)]
pub(crate) struct StopRequest<'a> {
    pub(crate) force: bool,
    pub(crate) timeout: Duration,
    pub(crate) claim: Option<&'a StopClaim>,
}

/// What a flavour's core does its own way: wait (on a condition variable or by parking a
/// waker) and call user code (call or poll), each from sync and from async callers.
pub(crate) trait Driver: Send + Sync + 'static {
    /// Stops it from sync code, on this thread.
    fn stop_on_thread(&self, stop: StopRequest<'_>) -> Result<(), Error>;
    /// Stops it from async code (`stop_async`), waiting at most `timeout` for its guards.
    fn stop_in_task(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>>;
    /// Starts it from sync code (a restart bringing it back); `handle` goes to the registry.
    fn start_on_thread(&self, handle: &Handle) -> Result<(), Error>;
    /// Starts it from async code.
    fn start_in_task<'a>(&'a self, handle: &'a Handle) -> BoxFuture<'a, Result<(), Error>>;
    /// The keys of its start and stop functions, as the jump table knows them.
    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64>;
}

#[allow(private_bounds)]
impl<T, F: Flavour> StateCore<T, F> {
    pub(crate) const fn with_definition(info: StateInfo, definition: F::Definition<T>) -> Self {
        Self {
            info,
            cell: ValueCell::new(),
            reader_id: ReaderId::new(),
            definition: Mutex::new(definition),
        }
    }

    #[inline(always)]
    pub(crate) fn key(&self) -> Key {
        std::ptr::from_ref(self) as Key
    }

    /// The reader id, or 0 if no guard was ever made.
    #[inline(always)]
    pub(crate) fn reader_id(&self) -> usize {
        self.reader_id.get()
    }

    /// The reader id, if one was assigned.
    ///
    /// Id 0 means "not assigned yet", but this load may be older than the first start, which
    /// assigns the id and then publishes: entering on the counts of id 0 (which no stopper
    /// sums) could then see the value realized and be missed by its stop.
    #[inline(always)]
    pub(crate) fn assigned_reader_id(&self) -> Option<usize> {
        match self.reader_id() {
            0 => None,
            id => Some(id),
        }
    }

    #[inline]
    pub(crate) fn ensure_reader_id(&self) -> usize {
        self.reader_id.ensure()
    }

    pub(crate) fn definition(&self) -> MutexGuard<'_, F::Definition<T>> {
        self.definition
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that the start running on this thread (or in this poll) read this state.
    pub(crate) fn record_dependency(&self) {
        world::record_dependency(self.key(), &self.info);
    }

    /// True if the calling thread holds a guard on it that only this thread can drop (a
    /// stop from here would wait for it forever); owned guards never count.
    pub(crate) fn held_here(&self) -> bool {
        self.assigned_reader_id()
            .is_some_and(|id| readers::current().is_some_and(|own| own.inside(id) > 0))
    }
}

impl<T, F: Flavour> Drop for StateCore<T, F> {
    fn drop(&mut self) {
        // Only local cores are dropped, and only when no state, guard or handle refers to
        // them any more (the reader id goes back to its pool with the field).
        super::world().forget(self.key());
    }
}

#[allow(private_bounds)]
impl<T, F: Flavour> Tracked for StateCore<T, F>
where
    T: Send + Sync + 'static,
    Self: Driver + Swap<Value = T>,
{
    fn info(&self) -> &StateInfo {
        &self.info
    }

    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64> {
        Driver::code(self)
    }

    fn is_realized(&self) -> bool {
        self.cell.is_realized()
    }

    fn stop_tracked(&self, force: bool) -> Result<(), Error> {
        let timeout = stop_timeout();
        self.stop_on_thread(StopRequest {
            force,
            timeout,
            claim: None,
        })
    }

    fn stop_claimed(&self, claim: &StopClaim, timeout: Duration) -> Result<(), Error> {
        self.stop_on_thread(StopRequest {
            force: false,
            timeout,
            claim: Some(claim),
        })
    }

    fn start_tracked(&self, handle: &Handle) -> Result<(), Error> {
        self.start_on_thread(handle)
    }

    fn start_tracked_async<'a>(&'a self, handle: &'a Handle) -> BoxFuture<'a, Result<(), Error>> {
        self.start_in_task(handle)
    }

    fn stop_tracked_async(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        self.stop_in_task(timeout)
    }

    fn held_by_current_thread(&self) -> bool {
        self.held_here()
    }

    fn reload_tracked(&self) -> BoxFuture<'_, Result<Restarted, Error>> {
        Box::pin(reload::reload(self))
    }
}
