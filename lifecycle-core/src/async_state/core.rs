//! An async state's core (`kernel::driver::StateCore` with the [`Polled`] flavour): the
//! async driver of the kernel's start and stop protocol.
//!
//! The value lives in the same `ValueCell` as a sync state's, read only through owned
//! counts (`kernel::readers::enter_owned`: an async guard may be dropped on another thread
//! than the one that made it). Who starts or stops is decided by the world's one phase table,
//! owned by `By::Task`: the first task to find the state idle takes the `Starting` phase and
//! runs the start future itself; every other task parks its waker and is woken when the
//! phase ends. No thread ever blocks waiting for an async start.
//!
//! While a start future is polled, its state is on the thread's "starting" stack
//! (`thread::starting`), the same stack sync starts and stops use: reads inside it record
//! dependencies, and a read of a state already on the stack is a cycle. A read that must wait
//! for a start running in another task records "the start of the innermost state waits for
//! that one", and first walks those waits: if they lead back to a state on this poll's stack,
//! waiting would never end, so it is a cycle error instead.
//!
//! Imports `kernel`, `state`, `declared`, `error`, `exec`, `info`, `thread` and `watch`; must
//! not import `diagnostics`, `stop_kind` or `private`.

use super::definition::{AsyncDefinition, AsyncStartFn, AsyncStopFn, StartFuture, StopFuture};
use crate::error::{BoxError, Error};
use crate::exec::{self, catch_unwind_future, sleep, timeout_at};
use crate::info::StateInfo;
use crate::kernel::driver::{Driver, Flavour, StateCore, StopRequest};
use crate::kernel::outcome::{StartOutcome, StopOutcome};
use crate::kernel::phases::Ticket;
use crate::kernel::readers;
use crate::kernel::world::{self, Table};
use crate::kernel::{self, barrier, stop_timeout, BoxFuture, By, Granted, Handle, StopClaim, Turn, Want};
use crate::thread::{self, Key};
use crate::watch::{emit, Event};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The shared part of an async state. Statics keep it in a hidden `static`; local states in
/// an `Arc`.
#[doc(hidden)]
pub type AsyncCore<T> = StateCore<T, Polled>;

impl<T> AsyncCore<T> {
    /// A static async state's core (used by `#[defstate]` with an `async` initializer).
    pub const fn new_static(
        info: StateInfo,
        start: fn() -> StartFuture<T>,
        stop: Option<fn(T) -> StopFuture>,
    ) -> Self {
        let start = AsyncStartFn::Static(start);
        let stop = AsyncStopFn::from_static(stop);
        Self::with_definition(info, AsyncDefinition { start, stop })
    }

    /// Enters as a guard that may leave on any thread, if the value is there.
    #[inline]
    pub(crate) fn enter(&self) -> Option<*const T> {
        readers::enter_owned(&self.cell, self.ensure_reader_id())
    }
}

/// The flavour of async states: their start and stop functions return futures, and they
/// wait by parking wakers.
#[doc(hidden)]
pub enum Polled {}

impl Flavour for Polled {
    type Definition<T> = AsyncDefinition<T>;
    const ASYNC: bool = true;
}

/// Waits (without blocking the thread) until the task may start or stop the state: the async
/// way of waiting for the world's [`Table::acquire`](crate::kernel::world::Table::acquire).
struct Acquire<'a, T> {
    core: &'a AsyncCore<T>,
    want: Want,
    claim: Option<&'a StopClaim>,
    /// This future's entry among the parked wakers of the state.
    waiter: Option<u64>,
    /// The start or stop recorded as waiting for this state while parked.
    waiting: Option<Key>,
}

impl<'a, T> Acquire<'a, T> {
    fn new(core: &'a AsyncCore<T>, want: Want, claim: Option<&'a StopClaim>) -> Self {
        Self {
            core,
            want,
            claim,
            waiter: None,
            waiting: None,
        }
    }

    fn withdraw(&mut self, table: &mut Table, keep_waiter: bool) {
        let key = self.core.key();
        if let Some(from) = self.waiting.take() {
            table.remove_wait(from, key);
        }
        if !keep_waiter {
            if let Some(id) = self.waiter.take() {
                table.unpark(key, id);
            }
        }
    }
}

impl<T> Future for Acquire<'_, T> {
    type Output = Result<Granted, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let core = this.core;
        let key = core.key();
        let mut table = kernel::world();
        this.withdraw(&mut table, true);
        let slot = core.cell.slot();
        match table.acquire(key, &core.info, slot, this.want, By::Task, this.claim) {
            Turn::Done(done) => {
                this.withdraw(&mut table, false);
                Poll::Ready(done)
            }
            Turn::Wait => {
                table.park(key, &mut this.waiter, cx.waker());
                // The start or stop this poll runs waits for this state: the cycle checks of
                // other threads and tasks must see it.
                if let Some(from) = thread::innermost_active() {
                    table.add_wait(from, key);
                    this.waiting = Some(from);
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        if self.waiter.is_some() || self.waiting.is_some() {
            let mut table = kernel::world();
            self.withdraw(&mut table, false);
        }
    }
}

/// Polls a start or stop future with its state marked on this thread, making the future on
/// the first poll (so the sync part of the user's function is marked and caught too).
pub(super) struct Marked<O> {
    pub(super) key: Key,
    pub(super) kind: Kind,
    pub(super) make: Option<Box<dyn FnOnce() -> BoxFuture<'static, O> + Send>>,
    pub(super) future: Option<BoxFuture<'static, O>>,
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Start,
    Stop,
}

impl<O> Future for Marked<O> {
    type Output = O;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        let this = self.get_mut();
        let _starting;
        let _stopping;
        match this.kind {
            Kind::Start => _starting = thread::starting(this.key),
            Kind::Stop => _stopping = thread::stopping(this.key),
        }
        let future = match &mut this.future {
            Some(future) => future,
            None => {
                let make = this
                    .make
                    .take()
                    .expect("a finished future is not polled again");
                this.future.insert(make())
            }
        };
        future.as_mut().poll(cx)
    }
}

/// Polls the future that `make` makes (a start or a stop of `key`) as [`Marked`] does, and
/// catches its panics.
pub(super) async fn call_marked<O>(
    key: Key,
    kind: Kind,
    make: impl FnOnce() -> BoxFuture<'static, O> + Send + 'static,
) -> Result<O, Box<dyn Any + Send>> {
    catch_unwind_future(Marked {
        key,
        kind,
        make: Some(Box::new(make)),
        future: None,
    })
    .await
}

/// How a stop future ends when it may run for `timeout` at most: its failure, if any; past
/// the bound the future (and the value in it) is dropped, which counts as a failed stop.
pub(super) async fn bounded_stop(
    info: &StateInfo,
    stopping: impl Future<Output = StopOutcome>,
    timeout: Duration,
) -> Option<Error> {
    let outcome = match Instant::now().checked_add(timeout) {
        Some(deadline) => timeout_at(deadline, stopping).await,
        None => Some(stopping.await),
    };
    match outcome {
        Some(outcome) => kernel::stop_failure(info, outcome),
        None => Some(Error::Stop {
            state: info.name().to_owned(),
            source: BoxError::from(format!(
                "the async stop did not finish within {timeout:?}; its future and the value \
                 were dropped"
            )),
        }),
    }
}

/// How far a start or stop future got, for [`Unfinished`]: what dropping it there means.
#[derive(Clone, Copy)]
enum At {
    Starting,
    /// `taken`: the value was moved out of the cell into the stop.
    Stopping {
        taken: bool,
    },
    Done,
}

/// Ends the phase of a start or stop whose future was dropped before it finished (its task
/// was cancelled): a start leaves the state unrealized and a waiting task takes over; a stop
/// that took the value leaves the state stopped, one that had not leaves it started.
struct Unfinished<'a, T> {
    core: &'a AsyncCore<T>,
    ticket: Ticket,
    at: At,
}

impl<T> Drop for Unfinished<'_, T> {
    fn drop(&mut self) {
        let (key, info) = (self.core.key(), &self.core.info);
        match self.at {
            At::Done => {}
            At::Starting => {
                world::abandon_start(key, self.ticket);
                emit(
                    &Event::StartFailed("the start was cancelled (its future was dropped)".into()),
                    info,
                );
            }
            At::Stopping { taken: true } => {
                // The value went with the dropped stop future: the state is stopped.
                let failure = Error::Stop {
                    state: info.name().to_owned(),
                    source: "the stop was cancelled; the value was dropped".into(),
                };
                let _ = kernel::finish_stop(info, key, self.ticket, Some(failure), true);
            }
            At::Stopping { taken: false } => {
                self.core.cell.cancel_stop();
                let why = Error::Stop {
                    state: info.name().to_owned(),
                    source: "the stop was cancelled; the state stays started".into(),
                };
                let _ = kernel::cancel_stop(info, key, self.ticket, why);
            }
        }
    }
}

impl<T: Send + Sync + 'static> AsyncCore<T> {
    /// Polls the start function, marked as this state's start on the polling thread.
    pub(super) async fn call_start(&self) -> StartOutcome<T> {
        let start = self.definition().start.clone();
        call_marked(self.key(), Kind::Start, move || start.call()).await
    }

    /// Makes sure the state is realized: starts it in this task, or waits for the task that
    /// is starting it. `handle` makes the registry's handle when this call realizes it.
    pub(crate) async fn start_or_wait(
        &self,
        handle: impl FnOnce() -> Handle + Send,
    ) -> Result<(), Error> {
        let Granted::Start(ticket) = Acquire::new(self, Want::Start, None).await? else {
            return Ok(());
        };
        let key = self.key();
        let mut phase = Unfinished {
            core: self,
            ticket,
            at: At::Starting,
        };
        barrier::prepare();
        crate::declared::check_duplicates();
        emit(&Event::Starting, &self.info);
        let outcome = self.run_start().await;
        phase.at = At::Done;
        // SAFETY: `ticket` is this task's start right, held since the world saw the slot
        // unrealized under its lock, so no one else started, stopped or read it.
        let result = unsafe { world::conclude_start(key, ticket, &self.cell, outcome, handle) };
        kernel::announce_start(&self.info, &result);
        result
    }

    /// Stops the state: waits up to `timeout` for guards, then gives the stop function up to
    /// `timeout` (after that its future and the value are dropped, and it counts as a failed
    /// stop). `force`: clear the state even if the stop fails. `claim`: the caller may give up
    /// on this stop (see `stop_worker`).
    pub(crate) async fn stop(
        &self,
        force: bool,
        timeout: Duration,
        claim: Option<&StopClaim>,
    ) -> Result<(), Error> {
        let granted = Acquire::new(self, Want::Stop { force }, claim).await?;
        let Some(ticket) = kernel::stop_ticket(&self.info, granted) else {
            return Ok(());
        };
        let key = self.key();
        let mut phase = Unfinished {
            core: self,
            ticket,
            at: At::Stopping { taken: false },
        };
        emit(&Event::Stopping, &self.info);
        self.cell.begin_stop();
        if let Err(error) = self.wait_for_guards(timeout).await {
            phase.at = At::Done;
            self.cell.cancel_stop();
            return Err(kernel::cancel_stop(&self.info, key, ticket, error));
        }
        // SAFETY: we hold the stop right (`ticket`), `begin_stop` ran, and `inside_anywhere`
        // saw every reader gone (every guard enters through `readers::enter_owned`).
        let value = unsafe { self.cell.take() };
        phase.at = At::Stopping { taken: true };
        let failure = self.run_stop(value, timeout).await;
        phase.at = At::Done;
        kernel::finish_stop(&self.info, key, ticket, failure, force)
    }

    /// Asks the world for `want` in this task, parking while another thread or task is
    /// starting or stopping the state.
    pub(super) async fn acquire(
        &self,
        want: Want,
        claim: Option<&StopClaim>,
    ) -> Result<Granted, Error> {
        Acquire::new(self, want, claim).await
    }

    /// After `begin_stop`: waits up to `timeout` until no guard is out.
    pub(super) async fn wait_for_guards(&self, timeout: Duration) -> Result<(), Error> {
        let began = Instant::now();
        let mut pause = Duration::from_micros(50);
        while readers::inside_anywhere(&self.cell, self.reader_id()) != 0 {
            let waited = began.elapsed();
            if waited >= timeout {
                return Err(Error::StillInUse {
                    state: self.info.name().to_owned(),
                    waited,
                });
            }
            sleep(pause.min(timeout - waited)).await;
            pause = (pause * 2).min(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Polls the start function in this task and turns its outcome into the start's result.
    pub(super) async fn run_start(&self) -> Result<T, Error> {
        kernel::start_result(&self.info, self.call_start().await)
    }

    /// Polls the stop function on `value` in this task, marked as this state's stop, for at
    /// most `timeout` (then its future and the value are dropped, and it counts as failed).
    pub(super) async fn run_stop(&self, value: T, timeout: Duration) -> Option<Error> {
        let stop = self.definition().stop.clone();
        let stopping = call_marked(self.key(), Kind::Stop, move || stop.call(value));
        bounded_stop(&self.info, stopping, timeout).await
    }

    /// [`Self::stop`] for sync callers: drives it on this thread (see `exec::block_on`).
    pub(crate) fn stop_blocking(
        &self,
        force: bool,
        timeout: Duration,
        claim: Option<&StopClaim>,
    ) -> Result<(), Error> {
        // The stop bounds itself (guards, then the stop function); the outer bound is only a
        // backstop against a stop future that never wakes its task.
        let backstop = kernel::backstop(timeout);
        exec::block_on(self.stop(force, timeout, claim), backstop).unwrap_or_else(|| {
            Err(Error::Stop {
                state: self.info.name().to_owned(),
                source: BoxError::from(format!(
                    "the async stop did not finish within {backstop:?} on a blocked thread; \
                     stop async states with `stop_async().await` inside async code"
                )),
            })
        })
    }
}

impl<T: Send + Sync + 'static> Driver for AsyncCore<T> {
    fn stop_on_thread(&self, stop: StopRequest<'_>) -> Result<(), Error> {
        self.stop_blocking(stop.force, stop.timeout, stop.claim)
    }

    fn stop_in_task(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.stop(false, timeout, None))
    }

    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64> {
        let definition = self.definition();
        crate::state::code_keys(&definition.start, &definition.stop)
    }

    fn start_on_thread(&self, handle: &Handle) -> Result<(), Error> {
        // From sync code (a sync restart bringing back an async dependent): drive the start
        // on this thread, bounded like a stop.
        let backstop = kernel::backstop(stop_timeout());
        let start = self.start_or_wait(|| handle.clone());
        exec::block_on(start, backstop).unwrap_or_else(|| {
            Err(Error::Start {
                state: self.info.name().to_owned(),
                source: format!("the async start did not finish within {backstop:?}").into(),
            })
        })
    }

    fn start_in_task<'a>(&'a self, handle: &'a Handle) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.start_or_wait(|| handle.clone()))
    }
}
