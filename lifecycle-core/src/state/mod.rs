//! [`State<T>`]: a lazily started, tracked, stoppable and restartable value — the sync
//! driver of the kernel.
//!
//! Owns the sync state type, its guards and definitions, and `core_methods!`, the identity
//! getters both drivers write alike over their core. Imports `error`, `exec`, `info`,
//! `isolation`, `kernel`, `status`, `thread` and `unwind`; must not import `async_state` or the
//! modules built on `state` (`resource`, `shutdown`, `slot`, `diagnostics`, `private`).

mod core;
mod definition;
mod fmt;
mod guard;
mod reload;
mod scoped;
mod supervised;

pub use self::core::Core;
pub use crate::kernel::{set_stop_timeout, stop_timeout, Redefine};
pub(crate) use definition::{dyn_start, dyn_stop, NoStop, UserStart, UserStop};
#[cfg(feature = "hot")]
pub(crate) use definition::code_keys;
pub(crate) use fmt::{printed_as_state, printed_as_value, write_state};
pub(crate) use scoped::peek_bound_or_private;
pub use definition::StopReturn;
pub use guard::{Owned, Ref};

use crate::error::{BoxError, Error};
use crate::info::StateInfo;
use crate::isolation::scope;
use crate::kernel::{readers, world};
use crate::kernel::{self, Handle, Restarted};
use crate::status::Status;
use crate::thread::{self, Key};
use crate::unwind::get_failed;
use definition::{Definition, StopFn};
use std::sync::Arc;
use std::time::Duration;

/// A resettable, tracked value: a "delay" that starts on first use and can be stopped and
/// started again.
///
/// Statics are made with `#[defstate]`, local states with `state!`; both have this type, so
/// states can be kept in collections and passed around.
///
/// * The first [`get`](Self::get) runs the start function and caches the value; racing threads
///   wait and see the same value.
/// * [`stop`](Self::stop) waits for outstanding guards, hands the value to the stop function
///   by value, and clears the cache; the next `get` starts it again.
/// * Every realized state is tracked: [`status`](crate::status) lists them and
///   [`stop`](crate::stop()) stops them in reverse order.
/// * Dropping a realized local state stops it.
///
/// ```
/// use lifecycle::State;
///
/// let answer = State::new("answer", || Ok(41 + 1));
/// assert!(!answer.is_realized());
/// assert_eq!(*answer.get(), 42);
/// answer.stop().unwrap();
/// assert!(!answer.is_realized());
/// ```
pub struct State<T: Send + Sync + 'static> {
    /// Points at a `static` core (statics) or at the inside of an `Arc<Core<T>>` (locals).
    core: *const Core<T>,
    local: bool,
}

// SAFETY: a `State` is a shared reference to its core (static or `Arc`-owned); all access to
// the core goes through its atomics and locks, and values cross threads only when
// `T: Send + Sync` (required by the struct).
unsafe impl<T: Send + Sync + 'static> Send for State<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync + 'static> Sync for State<T> {}

// A panic in a start or stop function never leaves a state half-changed: it stays usable
// (see the tests of failed and panicking starts and stops), like `OnceLock`.
impl<T: Send + Sync + std::panic::RefUnwindSafe + 'static> std::panic::RefUnwindSafe for State<T> {}
impl<T: Send + Sync + std::panic::RefUnwindSafe + 'static> std::panic::UnwindSafe for State<T> {}

impl<T: Send + Sync + 'static> State<T> {
    /// A state over a core in a `static` (used by `#[defstate]`).
    pub(crate) const fn from_static(core: &'static Core<T>) -> Self {
        Self { core, local: false }
    }

    fn from_definition(info: StateInfo, definition: Definition<T>) -> Self {
        let core = Arc::new(Core::with_definition(info, definition));
        Self {
            core: Arc::into_raw(core),
            local: true,
        }
    }

    /// A local state named `name` whose start function is `start`. See `state!` for the
    /// usual way to write one.
    pub fn new(
        name: impl Into<std::borrow::Cow<'static, str>>,
        start: impl Fn() -> Result<T, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Self::from_parts(StateInfo::named(name), start, None::<fn(T)>)
    }

    /// A local state described by `info` (its name, meta data, and whether
    /// [`lifecycle::reload()`](crate::reload()) reloads it: [`StateInfo::reloadable`]).
    pub fn from_info(
        info: StateInfo,
        start: impl Fn() -> Result<T, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Self::from_parts(info, start, None::<fn(T)>)
    }

    /// Returns this (unrealized) local state with `stop` as its stop function.
    ///
    /// ```
    /// use lifecycle::State;
    /// let state = State::new("numbers", || Ok(vec![1, 2, 3]))
    ///     .with_stop(|numbers: Vec<i32>| println!("stopping {numbers:?}"));
    /// assert_eq!(state.get().len(), 3);
    /// ```
    #[must_use]
    pub fn with_stop<R: StopReturn>(self, stop: impl Fn(T) -> R + Send + Sync + 'static) -> Self {
        self.core().definition().stop = dyn_stop(stop);
        self
    }

    /// A local state from its parts (used by `state!`).
    pub(crate) fn from_parts<E, R>(
        info: StateInfo,
        start: impl Fn() -> Result<T, E> + Send + Sync + 'static,
        stop: Option<impl Fn(T) -> R + Send + Sync + 'static>,
    ) -> Self
    where
        E: Into<BoxError>,
        R: StopReturn,
    {
        let start = dyn_start(start);
        let stop = stop.map_or(StopFn::None, dyn_stop);
        Self::from_definition(info, Definition { start, stop })
    }

    #[inline(always)]
    pub(crate) fn core(&self) -> &Core<T> {
        // SAFETY: `core` points at a static, or at an `Arc` this state keeps alive until drop.
        unsafe { &*self.core }
    }

    fn key(&self) -> Key {
        self.core().key()
    }

    /// The registry's handle on this state.
    fn handle(&self) -> Handle {
        if self.local {
            // SAFETY: a local state's pointer came from `Arc::into_raw` and the state holds
            // one strong count, so making another is sound.
            let core = unsafe {
                Arc::increment_strong_count(self.core);
                Arc::from_raw(self.core)
            };
            Handle::Shared(core)
        } else {
            // SAFETY: a non-local state's core is a `static`.
            Handle::Static(unsafe { &*self.core })
        }
    }

    /// The value, starting the state if needed.
    ///
    /// # Panics
    /// If the start fails; the message names the state and the cause. Use
    /// [`try_get`](Self::try_get) to handle that as an error.
    ///
    /// Inside another state's start, a failed start does not panic: it unwinds (printing
    /// nothing) to that start, which fails with this error as its source.
    ///
    /// ```
    /// use lifecycle::State;
    /// use std::sync::Arc;
    ///
    /// let config = Arc::new(State::new("app/cfg", || Ok("80x".parse::<u16>()?)));
    /// let db = {
    ///     let config = Arc::clone(&config);
    ///     State::new("app/db", move || Ok(*config.get() + 1))
    /// };
    /// let error = db.try_get().unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "state `app/db` failed to start: state `app/cfg` failed to start: invalid digit found in string"
    /// );
    /// ```
    #[inline]
    #[track_caller]
    pub fn get(&self) -> Ref<'_, T> {
        // Not `try_get().unwrap()`: keeping the large `Result` out of the hot path lets the
        // guard stay in registers.
        match self.enter_fast() {
            Some(value) => value,
            None => self.get_cold(),
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_cold(&self) -> Ref<'_, T> {
        match self.get_slow() {
            Ok(value) => value,
            Err(error) => get_failed(error),
        }
    }

    /// The value, starting the state if needed; a failed start leaves it unrealized, and a
    /// later call tries again.
    #[inline]
    pub fn try_get(&self) -> Result<Ref<'_, T>, Error> {
        match self.enter_fast() {
            Some(value) => Ok(value),
            None => self.get_slow(),
        }
    }

    /// The read path: this thread's counts, no locks, no shared writes.
    #[inline(always)]
    fn enter_fast(&self) -> Option<Ref<'_, T>> {
        // One load of the core pointer, kept across the thread-local lookup.
        let core = self.core();
        let id = Self::fast_reader_id(core)?;
        let counts = readers::current()?.counts(id)?;
        let value = core.cell.enter(counts)?;
        Some(Ref::counted(value, counts))
    }

    /// The reader id the fast paths (`enter_fast`, `owned_fast`) enter on: none off a plain
    /// thread (a binding, scope or start needs the slow path) or before the id is assigned.
    #[inline(always)]
    fn fast_reader_id(core: &Core<T>) -> Option<usize> {
        if !thread::is_plain() {
            return None;
        }
        core.assigned_reader_id()
    }

    #[cold]
    #[inline(never)]
    fn get_slow(&self) -> Result<Ref<'_, T>, Error> {
        let core = self.core();
        if !thread::is_plain() {
            if let Some(value) = self.bound_ref() {
                return Ok(value);
            }
            if Self::in_scope() {
                return self.get_scoped();
            }
            core.record_dependency();
        }
        if let Some(value) = self.reenter() {
            return Ok(value);
        }
        loop {
            if let Some(value) = self.enter_any() {
                return Ok(value);
            }
            core.start_or_wait(|| self.handle())?;
        }
    }

    /// A second read by a thread that already holds a guard of this state on its own counts:
    /// it enters even while another thread's stop waits for that guard (a stop cannot take
    /// the value before this thread's count drops to zero), like a recursive read lock.
    fn reenter(&self) -> Option<Ref<'_, T>> {
        let core = self.core();
        let id = core.assigned_reader_id()?;
        let counts = readers::current()?.counts(id)?;
        // SAFETY: `counts` are this thread's own counts for this state, on this thread.
        let value = unsafe { core.cell.reenter(counts) }?;
        Some(Ref::counted(value, counts))
    }

    /// Enters on this thread's counts (registering them if needed) or the shared counter.
    fn enter_any(&self) -> Option<Ref<'_, T>> {
        let core = self.core();
        let id = core.ensure_reader_id();
        match readers::current_or_register().and_then(|record| record.counts_or_alloc(id)) {
            Some(counts) => core
                .cell
                .enter(counts)
                .map(|value| Ref::counted(value, counts)),
            None => core
                .cell
                .enter_shared()
                .map(|value| Ref::shared(value, core.cell.shared_counts())),
        }
    }

    fn bound_ref(&self) -> Option<Ref<'_, T>> {
        let bound = thread::bound(self.key())?;
        let value: *const T = bound.downcast_ref::<T>()?;
        // SAFETY: `value` points into `bound`, which the guard keeps alive.
        Some(Ref::bound(unsafe { &*value }, bound))
    }

    /// An owned handle to the value (`Send + 'static`), starting the state if needed.
    ///
    /// # Panics
    /// If the start fails, like [`get`](Self::get).
    #[track_caller]
    #[inline]
    pub fn get_owned(&self) -> Owned<T> {
        // As in `get`: the hot path stays clear of the large `Result`.
        match self.owned_fast() {
            Some(value) => value,
            None => self.get_owned_cold(),
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_owned_cold(&self) -> Owned<T> {
        match self.try_get_owned() {
            Ok(value) => value,
            Err(error) => get_failed(error),
        }
    }

    /// The owned read path: this thread's owned counts, no locks, no shared writes.
    #[inline(always)]
    fn owned_fast(&self) -> Option<Owned<T>> {
        let core = self.core();
        let id = Self::fast_reader_id(core)?;
        let value = readers::enter_owned(&core.cell, id)?;
        Some(self.owned_at(value))
    }

    /// Like [`get_owned`](Self::get_owned), returning a failed start as an error.
    pub fn try_get_owned(&self) -> Result<Owned<T>, Error> {
        let core = self.core();
        if !thread::is_plain() {
            if let Some(bound) = thread::bound(self.key()) {
                if let Some(value) = bound.downcast_ref::<T>() {
                    let value: *const T = value;
                    // SAFETY: `value` points into `bound`, which the handle keeps alive.
                    return Ok(Owned::bound(unsafe { &*value }, bound));
                }
            }
            if Self::in_scope() {
                return self.owned_scoped();
            }
            core.record_dependency();
        }
        loop {
            if let Some(value) = self.owned_entered() {
                return Ok(value);
            }
            core.start_or_wait(|| self.handle())?;
        }
    }

    /// An owned handle entered on this thread's owned counts, if the value is there.
    #[inline]
    fn owned_entered(&self) -> Option<Owned<T>> {
        let core = self.core();
        let value = readers::enter_owned(&core.cell, core.ensure_reader_id())?;
        Some(self.owned_at(value))
    }

    /// The handle over a reader entered at `value`, keeping the core alive.
    #[inline(always)]
    fn owned_at(&self, value: *const T) -> Owned<T> {
        if self.local {
            // SAFETY: as in `handle`: one more strong count of our own `Arc`.
            let core = unsafe {
                Arc::increment_strong_count(self.core);
                Arc::from_raw(self.core)
            };
            Owned::from_local(value, core)
        } else {
            // SAFETY: a non-local state's core is a `static`.
            Owned::from_static(value, unsafe { &*self.core })
        }
    }

    /// The value if the state is realized (or bound on this thread, or realized privately in
    /// its [scope](crate::isolate)); never starts it.
    pub fn peek(&self) -> Option<Ref<'_, T>> {
        if let Some(value) = self.enter_fast() {
            return Some(value);
        }
        peek_bound_or_private(|| self.bound_ref(), || self.peek_private())
            .or_else(|| self.enter_any())
    }

    /// True if the state is started and not stopped (`get` reads it without starting it).
    /// Agrees with [`status`](Self::status) being [`Status::Realized`]. Inside a
    /// [scope](crate::isolate), a private value counts too.
    pub fn is_realized(&self) -> bool {
        self.core().cell.is_realized() || self.is_private()
    }

    /// What the state is doing right now: [`Status`] (a failed stop shows as
    /// [`Status::StopFailed`]).
    ///
    /// ```
    /// use lifecycle::{State, Status};
    /// let answer = State::new("status-answer", || Ok(42));
    /// assert_eq!(answer.status(), Status::Unrealized);
    /// answer.get();
    /// assert_eq!(answer.status(), Status::Realized);
    /// ```
    pub fn status(&self) -> Status {
        let core = self.core();
        world::status_of(core.key(), &core.cell, self.is_private())
    }

    /// Stops the state: waits for outstanding guards and handles (up to
    /// [`stop_timeout`](crate::stop_timeout)), runs the stop function with the value, and
    /// clears it so it may start again. `Ok(())` if it was not realized.
    ///
    /// If the stop function fails, the state is failed until
    /// [`force_close`](Self::force_close) clears it (the failed-stop rule:
    /// [`Status::StopFailed`]).
    ///
    /// Inside a [scope](crate::isolate) that holds a private value of this state, stops that
    /// one (its private dependents first) and leaves the global state alone.
    pub fn stop(&self) -> Result<(), Error> {
        self.stop_with(false, stop_timeout())
    }

    /// Like [`stop`](Self::stop), waiting at most `timeout` for guards and handles.
    pub fn stop_within(&self, timeout: Duration) -> Result<(), Error> {
        self.stop_with(false, timeout)
    }

    /// Stops and clears the state even if its stop function fails or panics (the failure is
    /// reported to watchers and `tracing`). Fails only if guards or handles are still out
    /// after the timeout (the value is never freed under a reader), or if a stop that was
    /// given up on still holds the value ([`Error::StillStopping`]; see
    /// [`Status::StopFailed`]).
    pub fn force_close(&self) -> Result<(), Error> {
        self.stop_with(true, stop_timeout())
    }

    /// Restarts the state and what depends on it: stops the realized states whose start
    /// read this one (recursively: dependents first, otherwise newest first), stops this one,
    /// starts it again, then starts again the dependents that were running, in dependency
    /// order. The result names what it stopped and started.
    ///
    /// A dependent whose start was still running and read the old value is waited for and
    /// stopped too (it starts again on its next use), so when this returns no realized state
    /// holds data of the stopped value.
    ///
    /// ```
    /// use lifecycle::State;
    /// use std::sync::Arc;
    /// let port = Arc::new(State::new("doc-restart::port", || Ok(8080)));
    /// let p = Arc::clone(&port);
    /// let server = State::new("doc-restart::server", move || Ok(format!("on {}", *p.get())));
    /// server.get();
    /// let restarted = port.restart().unwrap();
    /// assert_eq!(restarted.stopped, ["doc-restart::server", "doc-restart::port"]);
    /// assert_eq!(restarted.started, ["doc-restart::port", "doc-restart::server"]);
    /// assert!(server.is_realized());
    /// ```
    pub fn restart(&self) -> Result<Restarted, Error> {
        self.restart_with(true)
    }

    /// Like [`restart`](Self::restart), but the dependents it stops start again only on
    /// their next use.
    pub fn restart_alone(&self) -> Result<Restarted, Error> {
        self.restart_with(false)
    }

    /// `stop`, `stop_within` and `force_close`: the private value if this thread's scope has
    /// one, else the global state.
    fn stop_with(&self, force: bool, timeout: Duration) -> Result<(), Error> {
        match self.stop_private() {
            Some(result) => result,
            None => self.core().stop(force, timeout, None),
        }
    }

    fn restart_with(&self, bring_back: bool) -> Result<Restarted, Error> {
        if let Some(stopped) = self.stop_private() {
            // A value private to this thread's scope restarts there (see `crate::isolate`).
            stopped?;
            self.try_get()?;
            return Ok(Restarted::of_one(self.name()));
        }
        // The sync stops and starts run on this thread as the restart is polled.
        let handle = self.handle();
        let restart = kernel::restart::restart(self.key(), &handle, bring_back);
        crate::exec::block_on(restart, Duration::MAX).expect("a restart without a deadline ends")
    }

    /// Makes `get` on this thread return `value` instead of the state's own value until the
    /// returned guard drops (like Clojure's `binding`). Other threads are not affected, so
    /// parallel tests can each bind their own value. Bindings nest.
    ///
    /// A binding never escapes its thread: while the guard is held the thread has a scope,
    /// and a state it starts then (a dependent of the bound state, say) is private to that
    /// scope and stopped when the last guard drops — the whole rule is on
    /// [`isolate`](crate::isolate).
    ///
    /// ```
    /// use lifecycle::State;
    /// let port = State::new("port", || Ok(8080_u16));
    /// {
    ///     let _bound = port.bind(0);
    ///     assert_eq!(*port.get(), 0);
    /// }
    /// assert_eq!(*port.get(), 8080);
    /// ```
    #[must_use = "the binding ends when the guard drops"]
    pub fn bind(&self, value: T) -> BindGuard<'_> {
        BindGuard::new(self.key(), Arc::new(value))
    }

    /// Replaces the start and stop functions. Skipped (with a
    /// [`RedefineSkipped`](crate::Event::RedefineSkipped) event and a `tracing` warning) while
    /// the state is active: stop it first.
    pub fn redefine<R: StopReturn>(
        &self,
        start: impl Fn() -> Result<T, BoxError> + Send + Sync + 'static,
        stop: impl Fn(T) -> R + Send + Sync + 'static,
    ) -> Redefine {
        let core = self.core();
        kernel::redefine(core.key(), &core.info, &core.cell, || {
            let definition = Definition { start: dyn_start(start), stop: dyn_stop(stop) };
            std::mem::replace(&mut *core.definition(), definition)
        })
    }
}

/// The identity getters `State` and `AsyncState` write alike over their `core()`. A macro
/// only because both drivers need them as inherent methods (the public API, no trait to
/// import). `with_stop` stays written out in each driver: its bound is what a user's wrong
/// stop closure is checked against, and the error must point at the method, not at a macro.
macro_rules! core_methods {
    ($state:ident) => {
        impl<T: Send + Sync + 'static> $state<T> {
            /// The state's name.
            pub fn name(&self) -> &str {
                self.core().info.name()
            }

            /// The state's name, place of declaration and meta data.
            pub fn info(&self) -> &$crate::info::StateInfo {
                &self.core().info
            }

            /// The value of meta key `key`, from `meta(key = "value")`.
            pub fn meta(&self, key: &str) -> Option<&'static str> {
                self.core().info.meta(key)
            }
        }
    };
}
pub(crate) use core_methods;

core_methods!(State);

/// Ends a [`State::bind`] substitution when dropped.
pub struct BindGuard<'a> {
    /// Dropped first: ends the scope (stopping its private values) while the binding holds.
    _scope: scope::Joined,
    _binding: thread::BindingGuard,
    _state: std::marker::PhantomData<(&'a (), *const ())>,
}

impl BindGuard<'_> {
    /// Binds `value` to the state `key` on this thread (`State::bind`, `AsyncState::bind`).
    pub(crate) fn new(key: Key, value: thread::Bound) -> Self {
        // The binding first: the scope's teardown (the guard's first field to drop) still
        // sees it.
        let binding = thread::bind(key, value);
        BindGuard {
            _scope: scope::join(),
            _binding: binding,
            _state: std::marker::PhantomData,
        }
    }
}

impl<T: Send + Sync + 'static> Drop for State<T> {
    fn drop(&mut self) {
        if !self.local {
            return;
        }
        // A realized local state is a resource: dropping it stops it and removes it from the
        // registry. Nobody can `force_close` it after this, so a failing stop function (now or
        // earlier) is reported and cleared, not left in the registry for every later
        // `lifecycle::stop()` to fail on. Only guards still out (`StillInUse`) keep it there,
        // with its value: the registry keeps the core alive and `lifecycle::stop()` will stop
        // it; the value is never freed under a reader.
        if let Err(error) = self.force_close() {
            tracing::error!(state = %self.name(), "dropping a local state: {error}");
        }
        // SAFETY: `core` came from `Arc::into_raw` and this state owns one strong count.
        drop(unsafe { Arc::from_raw(self.core) });
    }
}
