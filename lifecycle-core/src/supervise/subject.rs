//! What `State` and `AsyncState` share of supervision, written once: the [`Subject`] trait
//! each driver implements (how a check reads its value, how its start tells the supervisor
//! that it begins), and the registering both do over it: the public methods (`supervise`,
//! `with_check`, `fail`, `fail_handle`) of both types are one-line calls of this module,
//! written out in each driver so that a wrong argument's error names the real method.
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
