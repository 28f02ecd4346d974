//! An async state's core and its start and stop protocols.
//!
//! The value lives in the same [`ValueCell`] as a sync state's, read only through its shared
//! counter (an async guard may be dropped on another thread than the one that made it). Who
//! starts or stops is decided under the world lock (`coord`), in its async part
//! ([`AsyncWorld`](super::world::AsyncWorld)): the first task to find the state idle takes the
//! `Starting` phase and runs the start future itself; every other task parks its waker and is
//! woken when the phase ends. No thread ever blocks waiting for an async start.
//!
//! While a start future is polled, its state is on the thread's "starting" stack
//! (`thread::starting`), the same stack sync starts use: reads inside it record dependencies,
//! and a read of a state already on the stack is a cycle. A read that must wait for a start
//! running in another task records "the start of the innermost state waits for that one",
//! and first walks those waits: if they lead back to a state on this poll's stack, waiting
//! would never end, so it is a cycle error instead.

use super::definition::{AsyncDefinition, AsyncStartFn, AsyncStopFn, StartFuture, StopFuture};
use super::exec::{catch_unwind_future, sleep, timeout_at, BoxFuture};
use super::world::AsyncPhase;
use crate::barrier;
use crate::cell::ValueCell;
use crate::coord::{self, World};
use crate::error::{panic_message, BoxError, Error};
use crate::info::StateInfo;
use crate::registry::{Handle, Tracked};
use crate::state::{announce_start, conclude_start, stop_timeout};
use crate::thread::{self, Key};
use crate::watch::{emit, Event};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The shared part of an async state. Statics keep it in a hidden `static`; local states in
/// an `Arc`.
#[doc(hidden)]
pub struct AsyncCore<T> {
    pub(crate) info: StateInfo,
    pub(crate) cell: ValueCell<T>,
    definition: Mutex<AsyncDefinition<T>>,
}

thread_local! {
    /// The async states whose stop future this thread is polling right now.
    static STOPPING: RefCell<Vec<Key>> = const { RefCell::new(Vec::new()) };
}

fn stopping_here(key: Key) -> bool {
    STOPPING
        .try_with(|stack| stack.borrow().contains(&key))
        .unwrap_or(false)
}

fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

impl<T> AsyncCore<T> {
    pub(crate) const fn with_definition(info: StateInfo, definition: AsyncDefinition<T>) -> Self {
        Self {
            info,
            cell: ValueCell::new(),
            definition: Mutex::new(definition),
        }
    }

    /// A static async state's core (used by `#[defstate]` with an `async` initializer).
    pub const fn new_static(
        info: StateInfo,
        start: fn() -> StartFuture<T>,
        stop: Option<fn(T) -> StopFuture>,
    ) -> Self {
        let stop = match stop {
            Some(stop) => AsyncStopFn::Static(stop),
            None => AsyncStopFn::None,
        };
        Self::with_definition(
            info,
            AsyncDefinition {
                start: AsyncStartFn::Static(start),
                stop,
            },
        )
    }

    #[inline]
    pub(crate) fn key(&self) -> Key {
        std::ptr::from_ref(self) as Key
    }

    pub(crate) fn definition(&self) -> MutexGuard<'_, AsyncDefinition<T>> {
        self.definition
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn failed_earlier(&self, cause: &str) -> Error {
        Error::StopFailedEarlier {
            state: self.info.name().to_owned(),
            cause: cause.to_owned(),
        }
    }

    fn reentrant(&self, action: &'static str) -> Error {
        Error::Reentrant {
            state: self.info.name().to_owned(),
            action,
        }
    }

    /// Records that the start running in this poll (sync or async) read this state.
    pub(crate) fn record_dependency(&self) {
        coord::record_dependency(self.key(), &self.info);
    }
}

/// What a task wants to do with a state's phase.
#[derive(Clone, Copy)]
enum Want {
    Start,
    Stop { force: bool },
}

/// What it got.
enum Granted {
    /// The state is realized: read it.
    Realized,
    /// This task holds the `Starting` phase.
    Start,
    /// The state is not realized: nothing to stop.
    Nothing,
    /// This task holds the `Stopping` phase.
    Stop,
    /// A force close cleared a state whose earlier stop had failed.
    Cleared,
}

/// Waits (without blocking the thread) until the task may start or stop the state.
struct Acquire<'a, T> {
    core: &'a AsyncCore<T>,
    want: Want,
    /// This future's entry among the parked wakers of the state.
    waiter: Option<u64>,
    /// The start recorded as waiting for this state while parked.
    waiting_start: Option<Key>,
}

enum Turn {
    Done(Result<Granted, Error>),
    /// Park; `Some(start)`: the start of `start` waits for this state.
    Wait(Option<Key>),
}

impl<'a, T> Acquire<'a, T> {
    fn new(core: &'a AsyncCore<T>, want: Want) -> Self {
        Self {
            core,
            want,
            waiter: None,
            waiting_start: None,
        }
    }

    fn withdraw(&mut self, world: &mut World, keep_waiter: bool) {
        let key = self.core.key();
        if let Some(from) = self.waiting_start.take() {
            world.asyncs.remove_wait(from, key);
        }
        if !keep_waiter {
            if let Some(id) = self.waiter.take() {
                world.asyncs.unpark(key, id);
            }
        }
    }

    fn turn(&self, world: &mut World) -> Turn {
        let core = self.core;
        let key = core.key();
        let phase = world.asyncs.phase(key).cloned();
        match (self.want, phase) {
            (Want::Start, None) => {
                if core.cell.is_realized() {
                    return Turn::Done(Ok(Granted::Realized));
                }
                world
                    .asyncs
                    .set_phase(key, AsyncPhase::Starting, &core.info);
                world.edges.clear_dependencies(key);
                Turn::Done(Ok(Granted::Start))
            }
            (Want::Start, Some(AsyncPhase::Starting)) => {
                if let Some(stack) = thread::starting_from(key) {
                    // Read from inside its own start (directly or through states this poll
                    // is starting).
                    let cycle = stack.into_iter().chain([key]).map(|k| world.name(k));
                    return Turn::Done(Err(Error::Cycle {
                        cycle: cycle.collect(),
                    }));
                }
                let waiting_start = thread::innermost_starting();
                if waiting_start.is_some() {
                    if let Some(keys) = world.asyncs.wait_cycle(key, &thread::starting_from) {
                        let cycle = keys.into_iter().map(|k| world.name(k)).collect();
                        return Turn::Done(Err(Error::Cycle { cycle }));
                    }
                }
                Turn::Wait(waiting_start)
            }
            (Want::Stop { force: _ }, None) => {
                if !core.cell.is_realized() {
                    return Turn::Done(Ok(Granted::Nothing));
                }
                world
                    .asyncs
                    .set_phase(key, AsyncPhase::Stopping, &core.info);
                Turn::Done(Ok(Granted::Stop))
            }
            (Want::Stop { .. }, Some(AsyncPhase::Starting)) => {
                if thread::starting_from(key).is_some() {
                    return Turn::Done(Err(core.reentrant("starting")));
                }
                Turn::Wait(None)
            }
            (_, Some(AsyncPhase::Stopping)) => {
                if stopping_here(key) {
                    return Turn::Done(Err(core.reentrant("stopping")));
                }
                Turn::Wait(None)
            }
            (Want::Stop { force: true }, Some(AsyncPhase::Failed(_))) => {
                Turn::Done(Ok(Granted::Cleared))
            }
            (_, Some(AsyncPhase::Failed(cause))) => Turn::Done(Err(core.failed_earlier(&cause))),
        }
    }
}

impl<T> Future for Acquire<'_, T> {
    type Output = Result<Granted, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let key = this.core.key();
        let mut world = coord::world();
        this.withdraw(&mut world, true);
        match this.turn(&mut world) {
            Turn::Done(Ok(Granted::Cleared)) => {
                this.withdraw(&mut world, false);
                let wakers = world.asyncs.clear_phase(key);
                let handle = world.registry.remove(key);
                drop(world);
                drop(handle);
                wake_all(wakers);
                Poll::Ready(Ok(Granted::Cleared))
            }
            Turn::Done(done) => {
                this.withdraw(&mut world, false);
                Poll::Ready(done)
            }
            Turn::Wait(waiting_start) => {
                world.asyncs.park(key, &mut this.waiter, cx.waker());
                if let Some(from) = waiting_start {
                    world.asyncs.add_wait(from, key);
                    this.waiting_start = Some(from);
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        if self.waiter.is_some() || self.waiting_start.is_some() {
            let mut world = coord::world();
            self.withdraw(&mut world, false);
        }
    }
}

/// Polls a start or stop future with its state marked on this thread, making the future on
/// the first poll (so the sync part of the user's function is marked and caught too).
struct Marked<O> {
    key: Key,
    kind: Kind,
    make: Option<Box<dyn FnOnce() -> BoxFuture<'static, O> + Send>>,
    future: Option<BoxFuture<'static, O>>,
}

#[derive(Clone, Copy)]
enum Kind {
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
            Kind::Stop => _stopping = StopMark::new(this.key),
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

struct StopMark(Key);

impl StopMark {
    fn new(key: Key) -> Self {
        STOPPING.with(|stack| stack.borrow_mut().push(key));
        Self(key)
    }
}

impl Drop for StopMark {
    fn drop(&mut self) {
        let _ = STOPPING.try_with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(at) = stack.iter().rposition(|k| *k == self.0) {
                stack.remove(at);
            }
        });
    }
}

/// Ends a `Starting` phase whose start future was dropped before it finished (its task was
/// cancelled): the state stays unrealized and a waiting task takes over.
struct StartingPhase<'a, T> {
    core: &'a AsyncCore<T>,
    /// The start that runs this one inline (it waits for it).
    parent: Option<Key>,
    done: bool,
}

impl<T> StartingPhase<'_, T> {
    /// Ends the phase under `world`; returns the wakers to wake after unlocking.
    fn finish(&mut self, world: &mut World) -> Vec<Waker> {
        self.done = true;
        let key = self.core.key();
        if let Some(parent) = self.parent.take() {
            world.asyncs.remove_wait(parent, key);
        }
        world.asyncs.clear_phase(key)
    }
}

impl<T> Drop for StartingPhase<'_, T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let wakers = self.finish(&mut coord::world());
        wake_all(wakers);
        emit(
            &Event::StartFailed("the start was cancelled (its future was dropped)".into()),
            &self.core.info,
        );
    }
}

/// Ends a `Stopping` phase whose stop was dropped before it finished.
struct StoppingPhase<'a, T> {
    core: &'a AsyncCore<T>,
    taken: bool,
    done: bool,
}

impl<T> Drop for StoppingPhase<'_, T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let key = self.core.key();
        let info = &self.core.info;
        if self.taken {
            // The value went with the dropped stop future: the state is stopped.
            let mut world = coord::world();
            let wakers = world.asyncs.clear_phase(key);
            let handle = world.registry.remove(key);
            drop(world);
            drop(handle);
            wake_all(wakers);
            emit(
                &Event::StopFailed("the stop was cancelled; the value was dropped".into()),
                info,
            );
            emit(&Event::Stopped, info);
        } else {
            self.core.cell.cancel_stop();
            let wakers = coord::world().asyncs.clear_phase(key);
            wake_all(wakers);
            emit(
                &Event::StopFailed("the stop was cancelled; the state stays started".into()),
                info,
            );
        }
    }
}

impl<T: Send + Sync + 'static> AsyncCore<T> {
    /// Makes sure the state is realized: starts it in this task, or waits for the task that
    /// is starting it. `handle` makes the registry's handle when this call realizes it.
    pub(crate) async fn start_or_wait(
        &self,
        handle: impl FnOnce() -> Handle + Send,
    ) -> Result<(), Error> {
        match Acquire::new(self, Want::Start).await? {
            Granted::Start => {}
            _ => return Ok(()),
        }
        let key = self.key();
        let mut phase = StartingPhase {
            core: self,
            parent: None,
            done: false,
        };
        // Started inline by another start (sync or async): that start waits for this one,
        // which the cycle check of other tasks must see.
        if let Some(parent) = thread::innermost_starting() {
            coord::world().asyncs.add_wait(parent, key);
            phase.parent = Some(parent);
        }

        barrier::prepare();
        crate::declared::check_duplicates();
        emit(&Event::Starting, &self.info);
        let start = self.definition().start.clone();
        let outcome = catch_unwind_future(Marked {
            key,
            kind: Kind::Start,
            make: Some(Box::new(move || start.call())),
            future: None,
        })
        .await;

        let mut world = coord::world();
        let wakers = phase.finish(&mut world);
        // SAFETY: we held the Starting phase, so no one else started, stopped or read the
        // slot since `Acquire` saw it unrealized under the lock.
        let result = unsafe { conclude_start(&self.cell, &self.info, key, world, outcome, handle) };
        wake_all(wakers);
        announce_start(&self.info, &result);
        result
    }

    /// Stops the state: waits up to `timeout` for guards, then gives the stop function up to
    /// `timeout` (after that its future and the value are dropped, and it counts as a failed
    /// stop). `force`: clear the state even if the stop fails.
    pub(crate) async fn stop(&self, force: bool, timeout: Duration) -> Result<(), Error> {
        match Acquire::new(self, Want::Stop { force }).await? {
            Granted::Stop => {}
            Granted::Cleared => {
                emit(&Event::Stopped, &self.info);
                return Ok(());
            }
            _ => return Ok(()),
        }
        let key = self.key();
        let mut phase = StoppingPhase {
            core: self,
            taken: false,
            done: false,
        };
        emit(&Event::Stopping, &self.info);
        self.cell.begin_stop();
        let began = Instant::now();
        let mut pause = Duration::from_micros(50);
        while self.cell.shared_inside() != 0 {
            let waited = began.elapsed();
            if waited >= timeout {
                phase.done = true;
                self.cell.cancel_stop();
                let wakers = coord::world().asyncs.clear_phase(key);
                wake_all(wakers);
                let error = Error::StillInUse {
                    state: self.info.name().to_owned(),
                    waited,
                };
                emit(&Event::StopFailed(error.to_string()), &self.info);
                return Err(error);
            }
            sleep(pause.min(timeout - waited)).await;
            pause = (pause * 2).min(Duration::from_millis(5));
        }
        // SAFETY: we hold the Stopping phase (exclusive stop right), `begin_stop` ran, and the
        // Acquire load of `shared_inside` saw every reader gone. Async states have no other
        // readers: every guard enters on the shared counter.
        let value = unsafe { self.cell.take() };
        phase.taken = true;
        let stop = self.definition().stop.clone();
        let stopping = catch_unwind_future(Marked {
            key,
            kind: Kind::Stop,
            make: Some(Box::new(move || stop.call(value))),
            future: None,
        });
        let deadline = Instant::now().checked_add(timeout);
        let outcome = match deadline {
            Some(deadline) => timeout_at(deadline, stopping).await,
            None => Some(stopping.await),
        };
        let failure = match outcome {
            Some(Ok(Ok(()))) => None,
            Some(Ok(Err(source))) => Some(Error::Stop {
                state: self.info.name().to_owned(),
                source,
            }),
            Some(Err(payload)) => Some(Error::StopPanicked {
                state: self.info.name().to_owned(),
                message: panic_message(&*payload),
            }),
            None => Some(Error::Stop {
                state: self.info.name().to_owned(),
                source: BoxError::from(format!(
                    "the async stop did not finish within {timeout:?}; its future and the \
                     value were dropped"
                )),
            }),
        };

        phase.done = true;
        let mut world = coord::world();
        match failure {
            Some(error) if !force => {
                // The message runs the stop error's `Display` (user code) while this task
                // holds the state's stop right: a panic there must not leave it held forever.
                let message =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| error.to_string()))
                        .unwrap_or_else(|_| {
                            let state = self.info.name();
                            format!("state `{state}` failed to stop (its error's Display panicked)")
                        });
                let wakers =
                    world
                        .asyncs
                        .change_phase(key, AsyncPhase::Failed(message.clone()), &self.info);
                drop(world);
                wake_all(wakers);
                emit(&Event::StopFailed(message), &self.info);
                Err(error)
            }
            failure => {
                let wakers = world.asyncs.clear_phase(key);
                let handle = world.registry.remove(key);
                drop(world);
                drop(handle);
                wake_all(wakers);
                if let Some(error) = failure {
                    emit(&Event::StopFailed(error.to_string()), &self.info);
                }
                emit(&Event::Stopped, &self.info);
                Ok(())
            }
        }
    }

    /// [`Self::stop`] for sync callers: drives it on this thread (see `exec::block_on`).
    pub(crate) fn stop_blocking(&self, force: bool, timeout: Duration) -> Result<(), Error> {
        // The stop bounds itself (guards, then the stop function); the outer bound is only a
        // backstop against a stop future that never wakes its task.
        let backstop = timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1));
        super::exec::block_on(self.stop(force, timeout), backstop).unwrap_or_else(|| {
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

impl<T: Send + Sync + 'static> Tracked for AsyncCore<T> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    fn stop_tracked(&self, force: bool) -> Result<(), Error> {
        self.stop_blocking(force, stop_timeout())
    }

    fn stop_tracked_async(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.stop(false, timeout))
    }
}

impl<T> Drop for AsyncCore<T> {
    fn drop(&mut self) {
        // Only local cores are dropped, and only when no state, guard or registry entry
        // refers to them any more.
        coord::world().edges.forget(std::ptr::from_ref(self) as Key);
    }
}
