//! A state's core: its identity, value cell and definition, and the sync driver of the
//! kernel's start and stop protocol (it waits on the world's condition variable and calls
//! the user's functions on this thread).

use super::definition::{Definition, StartFn, StopFn};
use crate::error::{BoxError, Error};
use crate::info::StateInfo;
use crate::kernel::cell::ValueCell;
use crate::kernel::outcome::StartOutcome;
use crate::kernel::readers::{self, ReaderId};
use crate::kernel::world;
use crate::kernel::{
    self, barrier, stop_timeout, BoxFuture, By, Granted, Handle, Restarted, StopClaim, Tracked,
    Turn, Want,
};
use crate::thread::{self, Key};
use crate::watch::{emit, Event};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The shared part of a state. Statics keep it in a hidden `static`; local states in an `Arc`.
#[doc(hidden)]
pub struct Core<T> {
    pub(crate) info: StateInfo,
    pub(crate) cell: ValueCell<T>,
    /// Index into the per-thread reader tables; 0 until first read.
    reader_id: ReaderId,
    definition: Mutex<Definition<T>>,
}

impl<T> Core<T> {
    pub(crate) const fn with_definition(info: StateInfo, definition: Definition<T>) -> Self {
        Self {
            info,
            cell: ValueCell::new(),
            reader_id: ReaderId::new(),
            definition: Mutex::new(definition),
        }
    }

    /// A static state's core (used by `#[defstate]`).
    pub const fn new_static(
        info: StateInfo,
        start: fn() -> Result<T, BoxError>,
        stop: Option<fn(T) -> Result<(), BoxError>>,
    ) -> Self {
        let stop = match stop {
            Some(stop) => StopFn::Static(stop),
            None => StopFn::None,
        };
        Self::with_definition(
            info,
            Definition {
                start: StartFn::Static(start),
                stop,
            },
        )
    }

    #[inline(always)]
    pub(crate) fn key(&self) -> Key {
        std::ptr::from_ref(self) as Key
    }

    #[inline(always)]
    pub(crate) fn reader_id(&self) -> usize {
        self.reader_id.get()
    }

    pub(crate) fn ensure_reader_id(&self) -> usize {
        self.reader_id.ensure()
    }

    pub(crate) fn definition(&self) -> std::sync::MutexGuard<'_, Definition<T>> {
        self.definition
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send + Sync + 'static> Core<T> {
    /// Asks the world for `want` on this thread, waiting on the world's condition variable
    /// while another thread or task is starting or stopping the state.
    pub(super) fn acquire(&self, want: Want, claim: Option<&StopClaim>) -> Result<Granted, Error> {
        let (key, by) = (self.key(), By::Thread(std::thread::current().id()));
        let mut table = kernel::world();
        loop {
            let slot = self.cell.slot();
            match table.acquire(key, &self.info, slot, want, by, claim) {
                Turn::Done(granted) => return granted,
                Turn::Wait => table = world::wait(table, key),
            }
        }
    }

    /// Runs the start function on this thread, marked as this state's start, catching panics.
    pub(super) fn call_start(&self) -> StartOutcome<T> {
        let start = self.definition().start.clone();
        let _starting = thread::starting(self.key());
        catch_unwind(AssertUnwindSafe(|| start.call()))
    }

    /// Makes sure the state is realized: starts it here, or waits for the thread starting it.
    ///
    /// `handle` makes the registry's handle when this call realizes the state.
    pub(crate) fn start_or_wait(&self, handle: impl FnOnce() -> Handle) -> Result<(), Error> {
        let Granted::Start(ticket) = self.acquire(Want::Start, None)? else {
            return Ok(());
        };
        let key = self.key();
        barrier::prepare();
        crate::declared::check_duplicates();
        self.ensure_reader_id();
        emit(&Event::Starting, &self.info);
        let outcome = self.run_start();
        // SAFETY: `ticket` is this thread's start right, held since the world saw the slot
        // unrealized under its lock, so no one else started, stopped or read it.
        let result = unsafe { world::conclude_start(key, ticket, &self.cell, outcome, handle) };
        kernel::announce_start(&self.info, &result);
        result
    }

    /// Stops the state: waits up to `timeout` for readers, then runs the stop function with
    /// the value. `force`: clear the state even if the stop function fails or panics.
    /// `claim`: the caller may give up on this stop (see `stop_worker`).
    pub(crate) fn stop(
        &self,
        force: bool,
        timeout: Duration,
        claim: Option<&StopClaim>,
    ) -> Result<(), Error> {
        let granted = self.acquire(Want::Stop { force }, claim)?;
        let Some(ticket) = kernel::stop_ticket(&self.info, granted) else {
            return Ok(());
        };
        let key = self.key();
        emit(&Event::Stopping, &self.info);
        self.cell.begin_stop();
        if let Err(error) = self.wait_for_readers(timeout) {
            self.cell.cancel_stop();
            return Err(kernel::cancel_stop(&self.info, key, ticket, error));
        }
        // SAFETY: we hold the stop right (`ticket`), `begin_stop` ran, and
        // `wait_for_readers` saw zero readers everywhere with Acquire loads.
        let value = unsafe { self.cell.take() };
        let failure = self.run_stop(value);
        kernel::finish_stop(&self.info, key, ticket, failure, force)
    }

    /// Runs the start function on this thread and turns its outcome into the start's result.
    pub(super) fn run_start(&self) -> Result<T, Error> {
        kernel::start_result(&self.info, self.call_start())
    }

    /// Runs the stop function on `value` on this thread, marked as this state's stop.
    pub(super) fn run_stop(&self, value: T) -> Option<Error> {
        let stop = self.definition().stop.clone();
        let outcome = {
            let _stopping = thread::stopping(self.key());
            catch_unwind(AssertUnwindSafe(|| stop.call(value)))
        };
        drop(stop);
        kernel::stop_failure(&self.info, outcome)
    }

    /// Waits until no reader is inside, or reports who is.
    pub(super) fn wait_for_readers(&self, timeout: Duration) -> Result<(), Error> {
        let id = self.reader_id();
        if id != 0 && readers::current().is_some_and(|own| own.inside(id) > 0) {
            return Err(Error::HeldByCurrentThread {
                state: self.info.name().to_owned(),
            });
        }
        let began = Instant::now();
        let mut pause = Duration::from_micros(10);
        for round in 0.. {
            if readers::inside_anywhere(&self.cell, id) == 0 {
                return Ok(());
            }
            let waited = began.elapsed();
            if waited >= timeout {
                return Err(Error::StillInUse {
                    state: self.info.name().to_owned(),
                    waited,
                });
            }
            if round < 16 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(pause.min(timeout - waited));
                pause = (pause * 2).min(Duration::from_millis(5));
            }
        }
        unreachable!("the loop returns")
    }

    /// Records that the start running on this thread read this state.
    pub(crate) fn record_dependency(&self) {
        world::record_dependency(self.key(), &self.info);
    }
}

impl<T: Send + Sync + 'static> Tracked for Core<T> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64> {
        let definition = self.definition();
        crate::state::code_keys(&definition.start, &definition.stop)
    }

    fn is_realized(&self) -> bool {
        self.cell.is_realized()
    }

    fn stop_tracked(&self, force: bool) -> Result<(), Error> {
        self.stop(force, stop_timeout(), None)
    }

    fn stop_claimed(&self, claim: &StopClaim, timeout: Duration) -> Result<(), Error> {
        self.stop(false, timeout, Some(claim))
    }

    fn start_tracked(&self, handle: &Handle) -> Result<(), Error> {
        self.start_or_wait(|| handle.clone())
    }

    fn stop_tracked_async(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        // Runs the sync stop when polled: it waits for guards by sleeping, bounded by `timeout`.
        Box::pin(async move { self.stop(false, timeout, None) })
    }

    fn held_by_current_thread(&self) -> bool {
        let id = self.reader_id();
        id != 0 && readers::current().is_some_and(|own| own.inside(id) > 0)
    }

    fn reload_tracked(&self) -> BoxFuture<'_, Result<Restarted, Error>> {
        // The new start, the swap and the stops run on this thread as the reload is polled.
        Box::pin(kernel::reload::reload(self))
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        // Only local cores are dropped, and only when no state, guard or handle refers to
        // them any more (the reader id goes back to its pool with the field).
        kernel::world().forget(std::ptr::from_ref(self) as Key);
    }
}

impl<T: Send + Sync + 'static> crate::declared::DeclaredState for Core<T> {
    fn is_async(&self) -> bool {
        false
    }

    fn start(&'static self) -> Result<(), Error> {
        self.start_or_wait(|| Handle::Static(self))
    }

    fn start_async(&'static self) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move { self.start_or_wait(|| Handle::Static(self)) })
    }
}

impl crate::declared::Declaration {
    /// Registers a static state's core (used by `#[defstate]`).
    pub(crate) const fn new<T: Send + Sync + 'static>(core: &'static Core<T>) -> Self {
        Self::of(core)
    }
}
