//! A state's core: its identity, value cell and definition, and the start and stop protocols.

use super::definition::{Definition, StartFn, StopFn};
use crate::cell::ValueCell;
use crate::coord::{self, Phase, World};
use crate::error::{panic_message, Error};
use crate::info::StateInfo;
use crate::readers::{self, ids};
use crate::registry::{Handle, Tracked};
use crate::thread::{self, Key};
use crate::watch::{emit, Event};
use crate::{barrier, BoxError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The shared part of a state. Statics keep it in a hidden `static`; local states in an `Arc`.
#[doc(hidden)]
pub struct Core<T> {
    pub(crate) info: StateInfo,
    pub(crate) cell: ValueCell<T>,
    /// Index into the per-thread reader tables; 0 until first read.
    reader_id: AtomicUsize,
    definition: Mutex<Definition<T>>,
}

static STOP_TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);

/// How long `stop` waits for outstanding guards and handles before it reports
/// [`Error::StillInUse`]. The default is 10 seconds.
pub fn set_stop_timeout(timeout: Duration) {
    STOP_TIMEOUT_MS.store(
        u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// The current stop timeout (see [`set_stop_timeout`]).
pub fn stop_timeout() -> Duration {
    Duration::from_millis(STOP_TIMEOUT_MS.load(Ordering::Relaxed))
}

impl<T> Core<T> {
    pub(crate) const fn with_definition(info: StateInfo, definition: Definition<T>) -> Self {
        Self {
            info,
            cell: ValueCell::new(),
            reader_id: AtomicUsize::new(0),
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
        self.reader_id.load(Ordering::Relaxed)
    }

    pub(crate) fn ensure_reader_id(&self) -> usize {
        let id = self.reader_id();
        if id != 0 {
            return id;
        }
        let fresh = ids::allocate();
        match self
            .reader_id
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(winner) => {
                ids::release(fresh);
                winner
            }
        }
    }

    pub(crate) fn definition(&self) -> std::sync::MutexGuard<'_, Definition<T>> {
        self.definition
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send + Sync + 'static> Core<T> {
    /// Makes sure the state is realized: starts it here, or waits for the thread starting it.
    ///
    /// `handle` makes the registry's handle when this call realizes the state.
    pub(crate) fn start_or_wait(&self, handle: impl FnOnce() -> Handle) -> Result<(), Error> {
        let key = self.key();
        let me = std::thread::current().id();
        let mut world = coord::world();
        loop {
            if self.cell.is_realized() {
                return Ok(());
            }
            match world.phase(key) {
                None => break,
                Some(Phase::Starting(owner)) if *owner == me => {
                    let keys = thread::starting_from(key).unwrap_or_else(|| vec![key]);
                    return Err(Error::Cycle {
                        cycle: world.own_cycle(keys, key),
                    });
                }
                Some(Phase::Stopping(owner)) if *owner == me => {
                    return Err(self.reentrant("stopping"));
                }
                Some(Phase::Starting(_) | Phase::Stopping(_)) => {
                    if let Some(cycle) = world.wait_cycle(me, key, thread::starting_from) {
                        return Err(Error::Cycle { cycle });
                    }
                    world = World::wait_for(world, me, key);
                }
                Some(Phase::Failed(cause)) => return Err(self.failed_earlier(cause)),
            }
        }
        world.set_phase(key, Phase::Starting(me), &self.info);
        world.edges.clear_dependencies(key);
        drop(world);

        barrier::prepare();
        crate::declared::check_duplicates();
        self.ensure_reader_id();
        emit(&Event::Starting, &self.info);
        let start = self.definition().start.clone();
        let outcome = {
            let _starting = thread::starting(key);
            catch_unwind(AssertUnwindSafe(|| start.call()))
        };

        let mut world = coord::world();
        world.clear_phase(key);
        // SAFETY: this thread held the Starting phase since it saw the slot unrealized under
        // the lock, so no one else started, stopped or read it.
        let result = unsafe { conclude_start(&self.cell, &self.info, key, world, outcome, handle) };
        coord::notify();
        announce_start(&self.info, &result);
        result
    }

    /// Stops the state: waits up to `timeout` for readers, then runs the stop function with
    /// the value. `force`: clear the state even if the stop function fails or panics.
    pub(crate) fn stop(&self, force: bool, timeout: Duration) -> Result<(), Error> {
        let key = self.key();
        let me = std::thread::current().id();
        let mut world = coord::world();
        loop {
            match world.phase(key) {
                None => break,
                Some(Phase::Starting(owner)) if *owner == me => {
                    return Err(self.reentrant("starting"));
                }
                Some(Phase::Stopping(owner)) if *owner == me => {
                    return Err(self.reentrant("stopping"));
                }
                Some(Phase::Starting(_) | Phase::Stopping(_)) => {
                    if let Some(cycle) = world.wait_cycle(me, key, thread::starting_from) {
                        return Err(Error::Cycle { cycle });
                    }
                    world = World::wait_for(world, me, key);
                }
                Some(Phase::Failed(cause)) => {
                    if !force {
                        return Err(self.failed_earlier(cause));
                    }
                    world.clear_phase(key);
                    let handle = world.registry.remove(key);
                    drop(world);
                    drop(handle);
                    coord::notify();
                    emit(&Event::Stopped, &self.info);
                    return Ok(());
                }
            }
        }
        if !self.cell.is_realized() {
            return Ok(());
        }
        world.set_phase(key, Phase::Stopping(me), &self.info);
        drop(world);

        emit(&Event::Stopping, &self.info);
        self.cell.begin_stop();
        if let Err(error) = self.wait_for_readers(timeout) {
            self.cell.cancel_stop();
            coord::world().clear_phase(key);
            coord::notify();
            emit(&Event::StopFailed(error.to_string()), &self.info);
            return Err(error);
        }
        // SAFETY: we hold the Stopping phase (exclusive stop right), `begin_stop` ran, and
        // `wait_for_readers` saw zero readers everywhere with Acquire loads.
        let value = unsafe { self.cell.take() };
        let stop = self.definition().stop.clone();
        let failure = match catch_unwind(AssertUnwindSafe(|| stop.call(value))) {
            Ok(Ok(())) => None,
            Ok(Err(source)) => Some(Error::Stop {
                state: self.info.name().to_owned(),
                source,
            }),
            Err(payload) => Some(Error::StopPanicked {
                state: self.info.name().to_owned(),
                message: panic_message(&*payload),
            }),
        };

        let mut world = coord::world();
        if !world.is_stopping_by(key, me) {
            // `stop()` gave up on this stop (it took too long): a late success still leaves
            // the state cleanly stopped. But if `force_close` cleared it meanwhile, the state
            // may be starting, started or stopping again: that is not this stop's to undo.
            let abandoned = matches!(world.phase(key), Some(Phase::Failed(_)));
            let outcome = match failure {
                None if abandoned => {
                    world.clear_phase(key);
                    let handle = world.registry.remove(key);
                    drop(world);
                    drop(handle);
                    emit(&Event::Stopped, &self.info);
                    Ok(())
                }
                None => Ok(()),
                Some(error) => Err(error),
            };
            coord::notify();
            return outcome;
        }
        match failure {
            Some(error) if !force => {
                // The message runs the stop error's `Display` (user code) while this thread
                // holds the state's stop right: a panic there must not leave it held forever.
                let message =
                    catch_unwind(AssertUnwindSafe(|| error.to_string())).unwrap_or_else(|_| {
                        let state = self.info.name();
                        format!("state `{state}` failed to stop (its error's Display panicked)")
                    });
                world.set_phase(key, Phase::Failed(message.clone()), &self.info);
                drop(world);
                coord::notify();
                emit(&Event::StopFailed(message), &self.info);
                Err(error)
            }
            failure => {
                world.clear_phase(key);
                let handle = world.registry.remove(key);
                drop(world);
                drop(handle);
                coord::notify();
                if let Some(error) = failure {
                    emit(&Event::StopFailed(error.to_string()), &self.info);
                }
                emit(&Event::Stopped, &self.info);
                Ok(())
            }
        }
    }

    /// Waits until no reader is inside, or reports who is.
    fn wait_for_readers(&self, timeout: Duration) -> Result<(), Error> {
        let id = self.reader_id();
        if id != 0 && readers::current().is_some_and(|own| own.inside(id) > 0) {
            return Err(Error::HeldByCurrentThread {
                state: self.info.name().to_owned(),
            });
        }
        let began = Instant::now();
        let mut pause = Duration::from_micros(10);
        for round in 0.. {
            let inside = self.cell.shared_inside()
                + if id == 0 {
                    0
                } else {
                    readers::inside_anywhere(id)
                };
            if inside == 0 {
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

    fn reentrant(&self, action: &'static str) -> Error {
        Error::Reentrant {
            state: self.info.name().to_owned(),
            action,
        }
    }

    fn failed_earlier(&self, cause: &str) -> Error {
        Error::StopFailedEarlier {
            state: self.info.name().to_owned(),
            cause: cause.to_owned(),
        }
    }

    /// Records that the start running on this thread read this state.
    pub(crate) fn record_dependency(&self) {
        coord::record_dependency(self.key(), &self.info);
    }
}

/// What running a start function gave: its result, or the payload of its panic.
pub(crate) type StartOutcome<T> = Result<Result<T, BoxError>, Box<dyn std::any::Any + Send>>;

/// Ends a start (sync or async): publishes the value and tracks the state, or turns the
/// failure into the error naming the state. The caller has ended its Starting phase in
/// `world`; the lock is released here before a replaced handle is dropped.
///
/// # Safety
/// The caller held the state's Starting phase for the whole start, so the slot is
/// unrealized and no one else touches it (see `ValueCell::publish`).
pub(crate) unsafe fn conclude_start<T>(
    cell: &ValueCell<T>,
    info: &StateInfo,
    key: Key,
    mut world: std::sync::MutexGuard<'static, World>,
    outcome: StartOutcome<T>,
    handle: impl FnOnce() -> Handle,
) -> Result<(), Error> {
    match outcome {
        Ok(Ok(value)) => {
            // SAFETY: exclusive start right, per this function's contract.
            unsafe { cell.publish(value) };
            let replaced = world.registry.push(key, handle());
            drop(world);
            drop(replaced);
            Ok(())
        }
        Ok(Err(source)) => Err(Error::Start {
            state: info.name().to_owned(),
            source,
        }),
        // A failed `get()` inside the start unwound to here: it becomes the error's source.
        Err(payload) => Err(crate::unwind::into_start_error(info.name(), payload)),
    }
}

/// Tells watchers how a start ended.
pub(crate) fn announce_start(info: &StateInfo, result: &Result<(), Error>) {
    match result {
        Ok(()) => emit(&Event::Started, info),
        Err(error) => emit(&Event::StartFailed(error.to_string()), info),
    }
}

impl<T: Send + Sync + 'static> Tracked for Core<T> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    fn stop_tracked(&self, force: bool) -> Result<(), Error> {
        self.stop(force, stop_timeout())
    }

    fn stop_tracked_async(
        &self,
        timeout: Duration,
    ) -> crate::async_state::BoxFuture<'_, Result<(), Error>> {
        // Runs the sync stop when polled: it waits for guards by sleeping, bounded by `timeout`.
        Box::pin(async move { self.stop(false, timeout) })
    }

    fn held_by_current_thread(&self) -> bool {
        let id = self.reader_id();
        id != 0 && readers::current().is_some_and(|own| own.inside(id) > 0)
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        // Only local cores are dropped, and only when no state, guard or handle refers to
        // them any more: the reader id has balanced counts everywhere and can be reused.
        let id = *self.reader_id.get_mut();
        if id != 0 {
            ids::release(id);
        }
        coord::world().edges.forget(std::ptr::from_ref(self) as Key);
    }
}
