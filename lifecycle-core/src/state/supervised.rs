//! Supervision of sync states: the thin methods over `supervise` ([`State::supervise`],
//! [`State::with_check`], [`State::fail`], [`State::fail_handle`]).

use super::{Core, Owned, State};
use crate::kernel::readers;
use crate::kernel::Tracked;
use crate::supervise::driver::{self, Check, Target};
use crate::supervise::{sync_check, FailHandle, Supervise};
use std::fmt::Display;
use std::sync::Arc;

impl<T: Send + Sync + 'static> State<T> {
    /// Returns this local state supervised with `config`: when it fails ([`fail`](Self::fail),
    /// a [`FailHandle`], or its [check](Self::with_check)), its dependents stop (newest
    /// first), it restarts after a backoff, and the dependents that were running start again
    /// — until it fails more than `max_restarts` times within `within`
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
        self.supervised(Some(config), None);
        self
    }

    /// Returns this local state with a check: while it is realized, the supervisor calls
    /// `check` with its value every `interval` ([`Supervise::interval`]); an error is a
    /// failure (supervised with the defaults if [`supervise`](Self::supervise) was not
    /// called), and readiness ([`lifecycle::health`](crate::health())) counts the last result.
    #[must_use]
    pub fn with_check<E: Display>(
        self,
        check: impl Fn(&T) -> Result<(), E> + Send + Sync + 'static,
    ) -> Self {
        self.supervised(None, Some(sync_check(self.reader(), check)));
        self
    }

    /// Reports that the value is dead: a supervised, realized state restarts (see
    /// [`supervise`](Self::supervise)). Ignored (returns `false`) if the state is not
    /// supervised, not realized, stopping, or already failing (failures coalesce).
    pub fn fail(&self, error: impl Display) -> bool {
        driver::fail(self.key(), None, error.to_string())
    }

    /// A handle that fails this realization of the state from anywhere (a task the start
    /// spawns): take it in the start. Handles of an earlier realization are ignored.
    pub fn fail_handle(&self) -> FailHandle {
        FailHandle::new(self.key())
    }

    /// Registers this state with the supervisor; the first time, its start also tells the
    /// supervisor when it begins.
    fn supervised(&self, config: Option<Supervise>, check: Option<Check>) {
        let key = self.key();
        let first = !driver::is_supervised(key);
        driver::register(key, self.info(), Target::of(self.handle()), config, check);
        if first && self.local {
            let mut definition = self.core().definition();
            let start = definition.start.clone();
            definition.start = definition.start.wrap(move || {
                driver::started(key);
                start.call()
            });
        }
    }

    /// Reads the value for a check without starting the state (`None` if not realized).
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
    /// Supervises a static state (used by `#[defstate(supervise)]`, from its start).
    pub(crate) fn supervise_static(
        &'static self,
        config: Supervise,
        check: Option<crate::supervise::StaticCheck<T>>,
    ) {
        if !driver::is_supervised(self.key()) {
            let check = check.map(|check| sync_check(self.reader(), check));
            let tracked: &'static dyn Tracked = self.core();
            driver::register(self.key(), self.info(), Target::Static(tracked), Some(config), check);
        }
        driver::started(self.key());
    }
}
