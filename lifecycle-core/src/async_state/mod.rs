//! [`AsyncState<T>`]: a state whose start (and stop) is `async`, read with `.get().await`.
//!
//! The async driver of the kernel: it waits by parking wakers and calls user code by polling.
//!
//! * `core` — the start and stop protocols over the world, without blocking threads.
//! * `guard` — [`AsyncRef`], the `Send + 'static` guard `get().await` hands out.
//! * `definition` — the boxed start and stop futures.
//! * `global` — [`stop_async`] and friends: sync and async states in one reverse order.
//! * `resource` — [`AsyncResource`] and the async twins of `with_resources!`/`mk_system!`.
//!
//! Imports `error`, `exec`, `info`, `isolation`, `kernel`, `state` (the bind guard, the shared
//! public methods and the `peek` order), `status`, `thread` and `unwind`; must not import
//! `private`, `diagnostics` or `stop_kind` (they import it).

mod core;
mod definition;
mod global;
mod guard;
mod reload;
mod resource;
mod scoped;
mod supervised;

pub use self::core::AsyncCore;
pub use definition::{box_start, box_stop, IntoStopFuture, StartFuture, StopFuture};
pub(crate) use crate::exec::block_on;
pub use global::{stop_async, stop_async_where, stop_async_within};
pub use guard::AsyncRef;
pub(crate) use supervised::StaticAsyncCheck;
pub use resource::{
    close_into, resource_async, AsyncOpened, AsyncParts, AsyncResource, AsyncSystem,
};

use crate::error::{BoxError, Error};
use crate::info::StateInfo;
use crate::kernel::{self, stop_timeout, world, Handle, Redefine, Restarted};
use crate::state::{peek_bound_or_private, BindGuard};
use crate::status::Status;
use crate::thread;
use definition::{dyn_start, dyn_stop};
pub(crate) use definition::{AsyncDefinition, AsyncStartFn, AsyncStopFn};
use guard::Keep;
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A state whose start is `async`: read with `.get().await`, started exactly once however many
/// tasks race on the first read, tracked and stopped together with sync states.
///
/// * [`get`](Self::get)`.await` starts it if needed and hands out an [`AsyncRef`] guard that is
///   `Send + 'static`, so it can be held across `.await`s and moved into spawned tasks.
/// * Tasks that find it starting park until the start ends; no thread blocks.
/// * A failed, panicking or cancelled start leaves it unrealized; the next read tries again.
/// * A start that needs itself — directly, through other states, or through another task that
///   is starting a state this start waits for — fails with [`Error::Cycle`] naming the cycle.
/// * [`stop`](Self::stop)`.await` waits for outstanding guards (bounded), then runs the async
///   stop with the value by value. [`stop_async`](crate::stop_async) stops every state, sync
///   and async, in one reverse realization order.
///
/// Works on any executor (tokio, async-std, smol, `block_on`): the crate starts no runtime.
///
/// # Stopping from sync code
///
/// [`stop()`](crate::stop()) (and so the teardown after SIGINT/SIGTERM or at the end of
/// `#[lifecycle::main]`), a sync [`State::restart`](crate::State::restart) that reaches an async
/// dependent, and dropping a realized local `AsyncState` drive the async stop on a plain thread
/// (parking it), outside any runtime. A stop function that needs its runtime's context
/// (`tokio::time`, `tokio::spawn`) should keep a `tokio::runtime::Handle` from its start and
/// run that part with `handle.spawn(...)`, awaiting the `JoinHandle` — as the examples'
/// servers do — or be stopped from async code with [`stop_async`](crate::stop_async).
///
/// # Limits
///
/// * A task that holds a guard of a state and awaits that state's stop waits until the stop
///   timeout ([`Error::StillInUse`]): tasks have no identity to detect it sooner.
/// * A cycle through a task the start spawned and then awaits (rather than through reads in
///   the start itself) is not seen and waits like any other await.
///
/// ```
/// use lifecycle::AsyncState;
/// # async fn connect(url: &str) -> std::io::Result<String> { Ok(format!("pool for {url}")) }
///
/// # lifecycle::__private::block_on(async {
/// let pool = AsyncState::new("pool", || async { connect("postgres://db").await })
///     .with_stop(|pool: String| async move { println!("closing {pool}") });
///
/// assert_eq!(pool.get().await.as_str(), "pool for postgres://db");
/// pool.stop().await.unwrap();
/// assert!(!pool.is_realized());
/// # });
/// ```
pub struct AsyncState<T: Send + Sync + 'static> {
    core: Keep<T>,
}

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// An async state over a core in a `static` (used by `#[defstate]`).
    pub(crate) const fn from_static(core: &'static AsyncCore<T>) -> Self {
        Self {
            core: Keep::Static(core),
        }
    }

    /// A local async state named `name` whose start function is `start`.
    pub fn new<E, F>(
        name: impl Into<Cow<'static, str>>,
        start: impl Fn() -> F + Send + Sync + 'static,
    ) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Self::from_info(StateInfo::named(name), start)
    }

    /// A local async state with the given identity (name, place, meta).
    pub fn from_info<E, F>(info: StateInfo, start: impl Fn() -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Self::from_definition(
            info,
            AsyncDefinition {
                start: dyn_start(start),
                stop: AsyncStopFn::None,
            },
        )
    }

    pub(crate) fn from_definition(info: StateInfo, definition: AsyncDefinition<T>) -> Self {
        Self {
            core: Keep::Local(Arc::new(AsyncCore::with_definition(info, definition))),
        }
    }

    /// Returns this (unrealized) local state with `stop` as its async stop function; `stop`
    /// gets the value by value and its future may return `()` or `Result<(), E>`.
    ///
    /// ```
    /// use lifecycle::AsyncState;
    /// let numbers = AsyncState::new("numbers", || async { Ok::<_, std::io::Error>(vec![1, 2]) })
    ///     .with_stop(|numbers: Vec<i32>| async move {
    ///         println!("stopping {numbers:?}");
    ///         Ok::<(), std::io::Error>(())
    ///     });
    /// # drop(numbers);
    /// ```
    #[must_use]
    pub fn with_stop<F: IntoStopFuture>(
        self,
        stop: impl Fn(T) -> F + Send + Sync + 'static,
    ) -> Self {
        self.core().definition().stop = dyn_stop(stop);
        self
    }

    pub(crate) fn core(&self) -> &AsyncCore<T> {
        match &self.core {
            Keep::Static(core) => core,
            Keep::Local(core) => core,
            Keep::Bound(_) => unreachable!("a state is never a binding"),
        }
    }

    fn keep(&self) -> Keep<T> {
        match &self.core {
            Keep::Static(core) => Keep::Static(core),
            Keep::Local(core) => Keep::Local(Arc::clone(core)),
            Keep::Bound(_) => unreachable!("a state is never a binding"),
        }
    }

    fn handle(&self) -> Handle {
        match &self.core {
            Keep::Static(core) => Handle::Static(*core),
            Keep::Local(core) => Handle::Shared(Arc::clone(core) as Arc<_>),
            Keep::Bound(_) => unreachable!("a state is never a binding"),
        }
    }

    /// The value bound on this thread with [`bind`](Self::bind), if any.
    fn bound(&self) -> Option<AsyncRef<T>> {
        if thread::is_plain() {
            return None;
        }
        AsyncRef::bound(thread::bound(self.core().key())?)
    }

    /// The read path, as `State::get`'s: on a plain thread (no binding, scope or start on
    /// it) a read needs no dependency tracking, only the reader counts.
    #[inline(always)]
    fn enter_plain(&self) -> Option<AsyncRef<T>> {
        if thread::is_plain() {
            self.enter()
        } else {
            None
        }
    }

    /// Enters as a reader if the value is there.
    #[inline]
    fn enter(&self) -> Option<AsyncRef<T>> {
        let value = self.core().enter()?;
        Some(AsyncRef::entered(value, self.keep()))
    }

    /// The value, starting the state if needed.
    ///
    /// # Panics
    /// If the start fails; the message names the state and the cause. Use
    /// [`try_get`](Self::try_get) to handle that as an error. The panic is raised where the
    /// future is polled, so its message names the line that called `get`.
    ///
    /// Inside another state's start, a failed start does not panic: it unwinds (printing
    /// nothing) to that start, which fails with this error as its source.
    // Not an `async fn`: `#[track_caller]` has no effect on one, and the caller's line must
    // be taken when `get` is called, not when the future is polled.
    #[track_caller]
    pub fn get(&self) -> impl Future<Output = AsyncRef<T>> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            // Not through `try_get` on the read path: building and dropping its (large)
            // future costs more than the read.
            if let Some(value) = self.enter_plain() {
                return value;
            }
            match self.try_get().await {
                Ok(value) => value,
                Err(error) => crate::unwind::get_failed_from(error, caller),
            }
        }
    }

    /// The value, starting the state if needed; a failed start leaves it unrealized, and a
    /// later call tries again.
    pub async fn try_get(&self) -> Result<AsyncRef<T>, Error> {
        if let Some(value) = self.enter_plain() {
            return Ok(value);
        }
        if let Some(value) = self.bound() {
            return Ok(value);
        }
        if Self::in_scope() {
            return self.get_scoped().await;
        }
        let core = self.core();
        core.record_dependency();
        loop {
            if let Some(value) = self.enter() {
                return Ok(value);
            }
            core.start_or_wait(|| self.handle()).await?;
        }
    }

    /// The value if the state is realized (or bound on this thread, or realized privately in
    /// the polling thread's [scope](crate::isolate)); never starts it and never waits.
    pub fn peek(&self) -> Option<AsyncRef<T>> {
        peek_bound_or_private(|| self.bound(), || self.peek_private()).or_else(|| self.enter())
    }

    /// Makes `get().await` on this thread return `value` instead of the state's own value
    /// until the returned guard drops, like [`State::bind`](crate::State::bind). The binding
    /// is per thread: it is seen by futures polled on this thread (a current-thread runtime,
    /// a `block_on`, a test), not by tasks that another worker thread polls.
    ///
    /// ```
    /// use lifecycle::AsyncState;
    /// let port = AsyncState::new("async-port", || async { Ok::<_, std::io::Error>(8080_u16) });
    /// # lifecycle::__private::block_on(async {
    /// {
    ///     let _bound = port.bind(0);
    ///     assert_eq!(*port.get().await, 0);
    /// }
    /// assert_eq!(*port.get().await, 8080);
    /// # });
    /// ```
    #[must_use = "the binding ends when the guard drops"]
    pub fn bind(&self, value: T) -> BindGuard<'_> {
        BindGuard::new(self.core().key(), Arc::new(value))
    }

    /// Replaces the async start and stop functions, like
    /// [`State::redefine`](crate::State::redefine): skipped (with a
    /// [`RedefineSkipped`](crate::Event::RedefineSkipped) event) while the state is active.
    ///
    /// ```
    /// use lifecycle::{AsyncState, Redefine};
    /// let pool = AsyncState::new("async-pool", || async { Ok::<_, std::io::Error>(1) });
    /// let redefined = pool.redefine(
    ///     || async { Ok::<_, std::io::Error>(2) },
    ///     |_: i32| async {},
    /// );
    /// assert_eq!(redefined, Redefine::Applied);
    /// # lifecycle::__private::block_on(async {
    /// assert_eq!(*pool.get().await, 2);
    /// # });
    /// ```
    pub fn redefine<E, F, G>(
        &self,
        start: impl Fn() -> F + Send + Sync + 'static,
        stop: impl Fn(T) -> G + Send + Sync + 'static,
    ) -> Redefine
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError>,
        G: IntoStopFuture,
    {
        let core = self.core();
        kernel::redefine(core.key(), &core.info, &core.cell, || {
            let definition = AsyncDefinition { start: dyn_start(start), stop: dyn_stop(stop) };
            std::mem::replace(&mut *core.definition(), definition)
        })
    }

    /// True if the state is started and not stopped (`get` reads it without starting it).
    /// Agrees with [`status`](Self::status) being [`Status::Realized`]. Inside a
    /// [scope](crate::isolate), a private value counts too.
    pub fn is_realized(&self) -> bool {
        self.core().cell.is_realized() || self.is_private()
    }

    /// What the state is doing right now: [`Status`] (a failed stop shows as
    /// [`Status::StopFailed`]).
    pub fn status(&self) -> Status {
        let core = self.core();
        world::status_of(core.key(), &core.cell, self.is_private())
    }

    /// Stops the state: waits for outstanding guards (up to
    /// [`stop_timeout`](crate::stop_timeout)), runs the stop function with the value (given
    /// the same time at most), and clears it so it may start again. `Ok(())` if it was not
    /// realized.
    ///
    /// A task that holds a guard of this state while awaiting its stop waits until the
    /// timeout and gets [`Error::StillInUse`]: drop the guard first.
    ///
    /// Inside a [scope](crate::isolate) that holds a private value of this state, stops that
    /// one (its private dependents first) and leaves the global state alone.
    pub async fn stop(&self) -> Result<(), Error> {
        self.stop_with(false, stop_timeout()).await
    }

    /// Like [`stop`](Self::stop), waiting at most `timeout` for guards and for the stop
    /// function.
    pub async fn stop_within(&self, timeout: Duration) -> Result<(), Error> {
        self.stop_with(false, timeout).await
    }

    /// Stops and clears the state even if its stop function fails, panics or times out.
    /// Fails only if guards are still out after the timeout.
    pub async fn force_close(&self) -> Result<(), Error> {
        self.stop_with(true, stop_timeout()).await
    }

    /// Restarts the state and what depends on it, like
    /// [`State::restart`](crate::State::restart): stops the realized dependents (dependents
    /// first; sync ones synchronously), stops this one, starts it again, then starts again
    /// the dependents that were running, in dependency order. A dependent whose start was
    /// still running and read the old value is waited for and stopped too.
    pub async fn restart(&self) -> Result<Restarted, Error> {
        self.restart_with(true).await
    }

    /// Like [`restart`](Self::restart), but the dependents it stops start again only on
    /// their next use.
    pub async fn restart_alone(&self) -> Result<Restarted, Error> {
        self.restart_with(false).await
    }

    /// `stop`, `stop_within` and `force_close`: the private value if the polling thread's
    /// scope has one, else the global state.
    async fn stop_with(&self, force: bool, timeout: Duration) -> Result<(), Error> {
        match self.stop_private().await {
            Some(result) => result,
            None => self.core().stop(force, timeout, None).await,
        }
    }

    async fn restart_with(&self, bring_back: bool) -> Result<Restarted, Error> {
        if let Some(stopped) = self.stop_private().await {
            // A value private to this thread's scope restarts there (see `crate::isolate`).
            stopped?;
            self.try_get().await?;
            return Ok(Restarted::of_one(self.name()));
        }
        kernel::restart::restart(self.core().key(), &self.handle(), bring_back).await
    }
}

crate::state::core_methods!(AsyncState);

impl<T: Send + Sync + 'static> Drop for AsyncState<T> {
    fn drop(&mut self) {
        let Keep::Local(core) = &self.core else {
            return;
        };
        // Its private value (if this thread's scope has one) goes with it: its key may be
        // reused by the next state made.
        if Self::in_scope() {
            if let Some(Err(error)) = crate::isolation::scope::stop_private(core.key()) {
                tracing::error!(state = %core.info.name(), "dropping a local async state: {error}");
            }
        }
        // A realized local state is a resource: dropping it stops it, here and now, on this
        // thread (there is no `.await` in `Drop`). Stop it with `.stop().await` first when its
        // stop needs the async runtime's thread.
        if core.cell.is_realized() {
            if let Err(error) = core.stop_blocking(false, stop_timeout(), None) {
                tracing::error!(state = %core.info.name(), "dropping a local async state: {error}");
            }
        }
    }
}

crate::state::printed_as_state!(AsyncState);
