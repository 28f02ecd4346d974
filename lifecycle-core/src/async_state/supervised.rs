//! Supervision of async states: [`AsyncState`] as the supervisor's `Subject` (its start
//! reports that it begins from its poll) and its public supervision methods
//! ([`AsyncState::supervise`], [`AsyncState::with_check`], [`AsyncState::fail`],
//! [`AsyncState::fail_handle`], one-line calls of `supervise::subject`), plus the
//! async-only [`AsyncState::with_async_check`]. A supervised async state restarts on the
//! tokio runtime it started on (feature `tokio`), so the tasks its start spawns survive.
//!
//! Imports `info`, `kernel`, `supervise` and `thread`; must not import `private`, `diagnostics`
//! or `stop_kind` (they import it).

use super::{AsyncRef, AsyncState, Keep};
use crate::info::StateInfo;
use crate::kernel::Handle;
use crate::supervise::driver::{self, Check};
use crate::supervise::subject::{self, Subject};
use crate::supervise::{check_result, FailHandle, StaticCheck, Supervise};
use crate::thread::Key;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

/// An async static state's async check (`check = |v| async move { .. }` of `#[defstate]`):
/// the future of the check on a guard of the value.
pub type StaticAsyncCheck<T> =
    fn(AsyncRef<T>) -> crate::kernel::BoxFuture<'static, Result<(), String>>;

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// Returns this local async state supervised with `config`, as
    /// [`State::supervise`](crate::State::supervise) does.
    #[must_use]
    pub fn supervise(self, config: Supervise) -> Self {
        subject::supervise_local(&self, Some(config), None);
        self
    }

    /// Returns this local async state with a check, as
    /// [`State::with_check`](crate::State::with_check) does.
    #[must_use]
    pub fn with_check<E: std::fmt::Display>(
        self,
        check: impl Fn(&T) -> Result<(), E> + Send + Sync + 'static,
    ) -> Self {
        subject::with_check(&self, check);
        self
    }

    /// Reports that the value is dead, as [`State::fail`](crate::State::fail) does.
    pub fn fail(&self, error: impl std::fmt::Display) -> bool {
        driver::fail(Subject::key(self), None, error.to_string())
    }

    /// A handle that fails this realization from anywhere, as
    /// [`State::fail_handle`](crate::State::fail_handle) makes.
    pub fn fail_handle(&self) -> FailHandle {
        FailHandle::new(Subject::key(self))
    }

    /// Supervises a static state (used by `#[defstate(supervise)]`, from its start).
    pub(crate) fn supervise_static(&'static self, config: Supervise, check: Option<StaticCheck<T>>) {
        subject::supervise_static(self, config, || subject::static_check(self, check));
    }
}

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// Returns this local async state with an async check (a ping over the network, say):
    /// `check` gets a guard of the value and returns the future of the check, which the
    /// supervisor runs every `interval` on the runtime the state started on; an error is a
    /// failure, as for [`with_check`](Self::with_check). While the check runs, its guard
    /// holds the value (a stop waits for it, bounded by the stop timeout).
    ///
    /// ```
    /// use lifecycle::{AsyncRef, AsyncState, Supervise};
    ///
    /// # lifecycle::__private::block_on(async {
    /// let link = AsyncState::new("doc-async-check::link", || async { Ok::<_, std::io::Error>(42_u32) })
    ///     .supervise(Supervise::new())
    ///     .with_async_check(|link: AsyncRef<u32>| async move {
    ///         // A real one would await a ping here.
    ///         if *link == 42 { Ok(()) } else { Err("lost") }
    ///     });
    /// assert_eq!(*link.get().await, 42);
    /// # });
    /// ```
    #[must_use]
    pub fn with_async_check<E, F, C>(self, check: C) -> Self
    where
        E: Display,
        F: Future<Output = Result<(), E>> + Send + 'static,
        C: Fn(AsyncRef<T>) -> F + Send + Sync + 'static,
    {
        let read = self.reader();
        let check: Check = Arc::new(move || {
            let checking = check(read()?);
            Some(Box::pin(async move { check_result(checking.await) }))
        });
        subject::supervise_local(&self, None, Some(check));
        self
    }

    /// [`supervise_static`](Self::supervise_static) with an async check
    /// (`check = |v| async move { .. }`): it gets a guard of the value.
    pub(crate) fn supervise_static_awaiting(
        &'static self,
        config: Supervise,
        check: StaticAsyncCheck<T>,
    ) {
        subject::supervise_static(self, config, || {
            let read = self.reader();
            let check: Check = Arc::new(move || Some(check(read()?)));
            Some(check)
        });
    }
}

impl<T: Send + Sync + 'static> Subject for AsyncState<T> {
    type Value = T;
    type Guard = AsyncRef<T>;

    fn key(&self) -> Key {
        self.core().key()
    }

    fn info(&self) -> &StateInfo {
        self.info()
    }

    fn handle(&self) -> Handle {
        self.handle()
    }

    fn is_local(&self) -> bool {
        matches!(self.core, Keep::Local(_))
    }

    fn announce_starts(&self) {
        let key = self.core().key();
        let mut definition = self.core().definition();
        let start = definition.start.clone();
        definition.start = definition.start.wrap(move || {
            let future = start.call();
            Box::pin(async move {
                // In the poll: the runtime the start runs on is the current one.
                driver::started(key);
                future.await
            })
        });
    }

    fn reader(&self) -> impl Fn() -> Option<AsyncRef<T>> + Send + Sync + 'static {
        enum Source<T: Send + Sync + 'static> {
            Static(&'static super::AsyncCore<T>),
            Local(std::sync::Weak<super::AsyncCore<T>>),
        }
        let source = match &self.core {
            Keep::Static(core) => Source::Static(core),
            Keep::Local(core) => Source::Local(Arc::downgrade(core)),
            Keep::Bound(_) => unreachable!("a state is never a binding"),
        };
        move || {
            let keep = match &source {
                Source::Static(core) => Keep::Static(*core),
                Source::Local(weak) => Keep::Local(weak.upgrade()?),
            };
            let core = match &keep {
                Keep::Static(core) => *core as *const super::AsyncCore<T>,
                Keep::Local(core) => Arc::as_ptr(core),
                Keep::Bound(_) => return None,
            };
            // SAFETY: `keep` keeps the core alive while this reference is used.
            let value = unsafe { &*core }.enter()?;
            Some(AsyncRef::entered(value, keep))
        }
    }
}
