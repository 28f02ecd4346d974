//! A sync state's core (`kernel::driver::StateCore` with the [`Blocking`] flavour) and the
//! sync driver of the kernel's start and stop protocol: it waits on the world's condition
//! variable and calls the user's functions on this thread. Also what `declared()` knows of a
//! static core of either flavour, written once here (the kernel may not import `declared`).
//!
//! Imports `kernel`, `declared`, `error`, `exec`, `info`, `thread` and `watch`; must not
//! import `async_state`, `resource`, `shutdown`, `slot`, `diagnostics` or `private`.

use super::definition::{Definition, StartFn, StopFn};
use crate::declared::{Declaration, DeclaredState};
use crate::error::{BoxError, Error};
use crate::info::StateInfo;
use crate::kernel::driver::{Driver, Flavour, StateCore, StopRequest};
use crate::kernel::outcome::StartOutcome;
use crate::kernel::readers;
use crate::kernel::world;
use crate::kernel::{self, barrier, BoxFuture, By, Granted, Handle, StopClaim, Tracked, Turn, Want};
use crate::thread;
use crate::watch::{emit, Event};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// The shared part of a state. Statics keep it in a hidden `static`; local states in an `Arc`.
#[doc(hidden)]
pub type Core<T> = StateCore<T, Blocking>;

impl<T> Core<T> {
    /// A static state's core (used by `#[defstate]`).
    pub const fn new_static(
        info: StateInfo,
        start: fn() -> Result<T, BoxError>,
        stop: Option<fn(T) -> Result<(), BoxError>>,
    ) -> Self {
        let start = StartFn::Static(start);
        let stop = StopFn::from_static(stop);
        Self::with_definition(info, Definition { start, stop })
    }
}

/// The flavour of sync states: their start and stop functions return results, and they
/// wait by blocking the thread.
#[doc(hidden)]
pub enum Blocking {}

impl Flavour for Blocking {
    type Definition<T> = Definition<T>;
    const ASYNC: bool = false;
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
        if self.held_here() {
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
}

impl<T: Send + Sync + 'static> Driver for Core<T> {
    fn stop_on_thread(&self, stop: StopRequest<'_>) -> Result<(), Error> {
        self.stop(stop.force, stop.timeout, stop.claim)
    }

    fn start_on_thread(&self, handle: &Handle) -> Result<(), Error> {
        self.start_or_wait(|| handle.clone())
    }

    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64> {
        let definition = self.definition();
        super::code_keys(&definition.start, &definition.stop)
    }

    fn stop_in_task(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        // Runs the sync stop when polled: it waits for guards by sleeping, bounded by `timeout`.
        Box::pin(async move { self.stop(false, timeout, None) })
    }

    fn start_in_task<'a>(&'a self, handle: &'a Handle) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { self.start_or_wait(|| handle.clone()) })
    }
}

/// Both flavours, over their `Tracked` starts: a sync start ends in the first poll, an async
/// one is driven on this thread.
#[allow(private_bounds)]
impl<T, F: Flavour> DeclaredState for StateCore<T, F>
where
    Self: Tracked,
{
    fn is_async(&self) -> bool {
        F::ASYNC
    }

    fn start(&'static self) -> Result<(), Error> {
        crate::exec::block_on(self.start_async(), Duration::MAX).unwrap_or(Ok(()))
    }

    fn start_async(&'static self) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move { self.start_tracked_async(&Handle::Static(self)).await })
    }
}

impl Declaration {
    /// Registers a static state's core (used by `#[defstate]`; async cores too).
    #[allow(private_bounds)]
    pub(crate) const fn new<T, F: Flavour>(core: &'static StateCore<T, F>) -> Self
    where
        StateCore<T, F>: Tracked,
    {
        Self::of(core)
    }
}
