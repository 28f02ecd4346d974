//! What `State` and `AsyncState` share of supervision, written once: the [`Subject`] trait
//! each driver implements (how a check reads its value, how its start tells the supervisor
//! that it begins), the registering both do over it, and [`supervision_methods!`], the
//! public methods (`supervise`, `with_check`, `fail`, `fail_handle`) whose bodies are the
//! same one-line calls on both types.
//!
//! Imports `info`, `kernel` and `thread`; must not import `state`, `async_state`, `health`,
//! `shutdown` or `private`.

use super::driver::{self, Check, Target};
use super::{sync_check, StaticCheck, Supervise};
use crate::info::StateInfo;
use crate::kernel::Handle;
use crate::thread::Key;
use std::fmt::Display;
use std::ops::Deref;

/// A state as the supervisor sees it; implemented by the sync and the async driver.
pub(crate) trait Subject {
    /// The state's value, which a check borrows.
    type Value: Send + Sync + 'static;
    /// The guard a check reads the value through.
    type Guard: Deref<Target = Self::Value>;

    fn key(&self) -> Key;
    fn info(&self) -> &StateInfo;
    /// The registry's handle on the state (kept weakly by the supervisor if local).
    fn handle(&self) -> Handle;
    /// True for a local state: its start is wrapped once to call [`driver::started`] (a
    /// static's generated start calls [`supervise_static`] itself).
    fn is_local(&self) -> bool;
    /// Makes the start call [`driver::started`] when it begins, the driver's way (the
    /// async driver in the poll, so the runtime the start runs on is the current one).
    fn announce_starts(&self);
    /// Reads the value for a check without starting the state (`None` if not realized).
    fn reader(&self) -> impl Fn() -> Option<Self::Guard> + Send + Sync + 'static;
}

/// Registers a local state with the supervisor (`config` and `check`: `Some` sets or
/// replaces them); the first time, its start also tells the supervisor when it begins.
pub(crate) fn supervise_local(
    subject: &impl Subject,
    config: Option<Supervise>,
    check: Option<Check>,
) {
    let key = subject.key();
    let first = !driver::is_supervised(key);
    driver::register(key, subject.info(), Target::of(subject.handle()), config, check);
    if first && subject.is_local() {
        subject.announce_starts();
    }
}

/// Sets a local state's sync check on the value it reads.
pub(crate) fn with_check<S: Subject, E: Display>(
    subject: &S,
    check: impl Fn(&S::Value) -> Result<(), E> + Send + Sync + 'static,
) {
    supervise_local(subject, None, Some(sync_check(subject.reader(), check)));
}

/// Supervises a static state from its start (`#[defstate(supervise)]`): registers it once,
/// with the check `check` makes, and tells the supervisor that a start begins.
pub(crate) fn supervise_static(
    subject: &impl Subject,
    config: Supervise,
    check: impl FnOnce() -> Option<Check>,
) {
    let key = subject.key();
    if !driver::is_supervised(key) {
        let target = Target::of(subject.handle());
        driver::register(key, subject.info(), target, Some(config), check());
    }
    driver::started(key);
}

/// A static's sync check (`check = ...` of `#[defstate]`) in the supervisor's form.
pub(crate) fn static_check<S: Subject>(
    subject: &S,
    check: Option<StaticCheck<S::Value>>,
) -> Option<Check> {
    check.map(|check| sync_check(subject.reader(), check))
}

/// The supervision methods of a state type that implements [`Subject`], each with the docs
/// given before its name. A macro only because both drivers need them as inherent methods
/// (the public API, no trait to import): every body is one call of this module.
macro_rules! supervision_methods {
    (
        $state:ident,
        $(#[$supervise:meta])* supervise,
        $(#[$with_check:meta])* with_check,
        $(#[$fail:meta])* fail,
        $(#[$fail_handle:meta])* fail_handle $(,)?
    ) => {
        impl<T: Send + Sync + 'static> $state<T> {
            $(#[$supervise])*
            #[must_use]
            pub fn supervise(self, config: $crate::supervise::Supervise) -> Self {
                $crate::supervise::subject::supervise_local(&self, Some(config), None);
                self
            }

            $(#[$with_check])*
            #[must_use]
            pub fn with_check<E: ::std::fmt::Display>(
                self,
                check: impl Fn(&T) -> Result<(), E> + Send + Sync + 'static,
            ) -> Self {
                $crate::supervise::subject::with_check(&self, check);
                self
            }

            $(#[$fail])*
            pub fn fail(&self, error: impl ::std::fmt::Display) -> bool {
                let key = $crate::supervise::subject::Subject::key(self);
                $crate::supervise::driver::fail(key, None, error.to_string())
            }

            $(#[$fail_handle])*
            pub fn fail_handle(&self) -> $crate::supervise::FailHandle {
                $crate::supervise::FailHandle::new($crate::supervise::subject::Subject::key(self))
            }

            /// Supervises a static state (used by `#[defstate(supervise)]`, from its start).
            pub(crate) fn supervise_static(
                &'static self,
                config: $crate::supervise::Supervise,
                check: Option<$crate::supervise::StaticCheck<T>>,
            ) {
                $crate::supervise::subject::supervise_static(self, config, || {
                    $crate::supervise::subject::static_check(self, check)
                });
            }
        }
    };
}
pub(crate) use supervision_methods;
