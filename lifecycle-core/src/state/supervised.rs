//! Supervision of sync states: [`State`] as the supervisor's `Subject` (how a check reads
//! its value, how its start reports that it begins) and its public supervision methods
//! ([`State::supervise`], [`State::with_check`], [`State::fail`], [`State::fail_handle`]),
//! each a one-line call of `supervise::subject`, which holds what both drivers share.
//!
//! Imports `info`, `kernel`, `supervise` and `thread`; must not import `async_state` or the
//! modules built on `state` (`resource`, `shutdown`, `slot`, `diagnostics`, `private`).

use super::{Core, Owned, State};
use crate::info::StateInfo;
use crate::kernel::{readers, Handle};
use crate::supervise::driver;
use crate::supervise::subject::{self, Subject};
use crate::supervise::{FailHandle, StaticCheck, Supervise};
use crate::thread::Key;
use std::sync::Arc;

impl<T: Send + Sync + 'static> State<T> {
    /// Returns this local state supervised with `config`: when it fails ([`fail`](Self::fail),
    /// a [`FailHandle`](crate::FailHandle), or its [check](Self::with_check)), its dependents
    /// stop (newest first), it restarts after a backoff, and the dependents that were running
    /// start again — until it fails more than `max_restarts` times within `within`
    /// ([`Status::GaveUp`](crate::Status::GaveUp)). A user's `stop` never restarts it.
    ///
    /// ```
    /// use lifecycle::{State, Status, Supervise};
    /// use std::time::Duration;
    ///
    /// let worker = State::new("doc-fail::worker", || Ok("working"))
    ///     .supervise(Supervise::new().backoff(Duration::from_millis(1), Duration::from_millis(5)));
    /// worker.get();
    /// assert!(worker.fail("lost the connection"));
    /// let restarts = || lifecycle::health_of(&[]).states[0].restarts;
    /// while restarts() == 0 {
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// assert_eq!(worker.status(), Status::Realized);
    /// ```
    #[must_use]
    pub fn supervise(self, config: Supervise) -> Self {
        subject::supervise_local(&self, Some(config), None);
        self
    }

    /// Returns this local state with a check: while it is realized, the supervisor calls
    /// `check` with its value every `interval` ([`Supervise::interval`](crate::Supervise::interval));
    /// an error is a failure (supervised with the defaults if [`supervise`](Self::supervise)
    /// was not called), and readiness ([`lifecycle::health`](crate::health())) counts the last
    /// result.
    #[must_use]
    pub fn with_check<E: std::fmt::Display>(
        self,
        check: impl Fn(&T) -> Result<(), E> + Send + Sync + 'static,
    ) -> Self {
        subject::with_check(&self, check);
        self
    }

    /// Reports that the value is dead: a supervised, realized state restarts (see
    /// [`supervise`](Self::supervise)). Ignored (returns `false`) if the state is not
    /// supervised, not realized, stopping, or already failing (failures coalesce).
    pub fn fail(&self, error: impl std::fmt::Display) -> bool {
        driver::fail(Subject::key(self), None, error.to_string())
    }

    /// A handle that fails this realization of the state from anywhere (a task the start
    /// spawns): take it in the start. Handles of an earlier realization are ignored.
    pub fn fail_handle(&self) -> FailHandle {
        FailHandle::new(Subject::key(self))
    }

    /// Supervises a static state (used by `#[defstate(supervise)]`, from its start).
    pub(crate) fn supervise_static(&'static self, config: Supervise, check: Option<StaticCheck<T>>) {
        subject::supervise_static(self, config, || subject::static_check(self, check));
    }
}

impl<T: Send + Sync + 'static> Subject for State<T> {
    type Value = T;
    type Guard = Owned<T>;

    fn key(&self) -> Key {
        self.key()
    }

    fn info(&self) -> &StateInfo {
        self.info()
    }

    fn handle(&self) -> Handle {
        self.handle()
    }

    fn is_local(&self) -> bool {
        self.local
    }

    fn announce_starts(&self) {
        let key = self.key();
        let mut definition = self.core().definition();
        let start = definition.start.clone();
        definition.start = definition.start.wrap(move || {
            driver::started(key);
            start.call()
        });
    }

    fn reader(&self) -> impl Fn() -> Option<Owned<T>> + Send + Sync + 'static {
        enum Source<T: Send + Sync + 'static> {
            Static(&'static Core<T>),
            Local(std::sync::Weak<Core<T>>),
        }
        let source = if self.local {
            // SAFETY: as in `handle`: one more strong count of this state's own `Arc`.
            let core = unsafe {
                Arc::increment_strong_count(self.core);
                Arc::from_raw(self.core)
            };
            Source::Local(Arc::downgrade(&core))
        } else {
            // SAFETY: a non-local state's core is a `static`.
            Source::Static(unsafe { &*self.core })
        };
        move || match &source {
            Source::Static(core) => {
                let value = readers::enter_owned(&core.cell, core.ensure_reader_id())?;
                Some(Owned::from_static(value, core))
            }
            Source::Local(weak) => {
                let core = weak.upgrade()?;
                let value = readers::enter_owned(&core.cell, core.ensure_reader_id())?;
                Some(Owned::from_local(value, core))
            }
        }
    }
}
