//! Reads, starts and stops of a sync state on a thread with an isolation scope (the rule is
//! on `lifecycle::isolate`): the binding, then the scope's private value, then a value
//! realized globally, else a private start whose value only this scope sees.
//!
//! Reached from the slow paths of `state/mod.rs`; plain threads never get here. Its
//! `peek_bound_or_private` is the order `peek` of both drivers looks in. Imports `error`,
//! `isolation`, `kernel` and `thread`; must not import `async_state` or the modules built on
//! `state` (`resource`, `shutdown`, `slot`, `diagnostics`, `private`).

use super::core::Core;
use super::definition::StopFn;
use super::guard::{Owned, Ref};
use super::State;
use crate::error::Error;
use crate::isolation::scope::{self, Private, StopFuture, Teardown};
use crate::kernel;
use crate::thread::{self, Bound};
use std::panic::{catch_unwind, AssertUnwindSafe};

impl<T: Send + Sync + 'static> State<T> {
    /// True if this thread has a scope (and so reads resolve through it).
    #[inline]
    pub(super) fn in_scope() -> bool {
        !thread::is_plain() && scope::active()
    }

    /// `get` inside a scope (bindings were looked at already).
    pub(super) fn get_scoped(&self) -> Result<Ref<'_, T>, Error> {
        if let Some(value) = self.recorded_private() {
            return Ok(private_ref(value));
        }
        if let Some(value) = self.reenter() {
            return Ok(value);
        }
        if let Some(value) = self.enter_any() {
            return Ok(value);
        }
        self.core().start_private().map(private_ref)
    }

    /// `get_owned` inside a scope (bindings were looked at already).
    pub(super) fn owned_scoped(&self) -> Result<Owned<T>, Error> {
        if let Some(value) = self.recorded_private() {
            return Ok(private_owned(value));
        }
        if let Some(value) = self.owned_entered() {
            return Ok(value);
        }
        self.core().start_private().map(private_owned)
    }

    /// Records the read in the scope, then this scope's private value, if it has one.
    fn recorded_private(&self) -> Option<Bound> {
        let key = self.key();
        scope::record_dependency(key);
        scope::private(key)
    }

    /// This thread's private value, for `peek`.
    pub(super) fn peek_private(&self) -> Option<Ref<'_, T>> {
        scope::private(self.key()).map(private_ref)
    }

    /// True if a scope of this thread holds a private value of this state.
    pub(super) fn is_private(&self) -> bool {
        Self::in_scope() && scope::private(self.key()).is_some()
    }

    /// Stops the private value (private dependents first), if this thread's scope has one.
    pub(super) fn stop_private(&self) -> Option<Result<(), Error>> {
        if !Self::in_scope() {
            return None;
        }
        scope::stop_private(self.key())
    }
}

/// `peek` of both drivers on a thread that is not plain, in the order of the isolate rule
/// (without its start): the binding `bound` finds, then, in a scope, the private value
/// `private` finds.
/// `None` sends the caller on to the global value.
pub(crate) fn peek_bound_or_private<G>(
    bound: impl FnOnce() -> Option<G>,
    private: impl FnOnce() -> Option<G>,
) -> Option<G> {
    if thread::is_plain() {
        return None;
    }
    bound().or_else(|| if scope::active() { private() } else { None })
}

fn private_ref<'a, T: Send + Sync + 'static>(value: Bound) -> Ref<'a, T> {
    let typed: *const T = value
        .downcast_ref::<T>()
        .expect("a private value has the type of its state");
    // SAFETY: `typed` points into `value`, which the guard keeps alive; the scope's teardown
    // takes the value out only once no other `Arc` of it is left (`scope::take`).
    Ref::bound(unsafe { &*typed }, value)
}

fn private_owned<T: Send + Sync + 'static>(value: Bound) -> Owned<T> {
    let typed: *const T = value
        .downcast_ref::<T>()
        .expect("a private value has the type of its state");
    // SAFETY: as in `private_ref`: the handle keeps `value` alive.
    Owned::bound(unsafe { &*typed }, value)
}

impl<T: Send + Sync + 'static> Core<T> {
    /// Runs the start function on this thread for the innermost scope: the value goes into
    /// the scope (with how to stop it), never into the cell, the registry or the graph.
    fn start_private(&self) -> Result<Bound, Error> {
        let key = self.key();
        scope::begin_start(key, &self.info)?;
        let started = kernel::start_result(&self.info, self.call_start());
        let stop = self.definition().stop.clone();
        scope::keep_started(key, &self.info, started, stop)
    }
}

/// A private sync value stops with the stop function, on the tearing-down thread.
impl<T: Send + Sync + 'static> Teardown for Private<StopFn<T>> {
    fn stop(self: Box<Self>, value: Bound) -> Result<(), Error> {
        let value = scope::take::<T>(value, &self.info)?;
        let outcome = catch_unwind(AssertUnwindSafe(|| self.stop.call(value)));
        kernel::stop_failure(&self.info, outcome).map_or(Ok(()), Err)
    }

    fn stop_async(self: Box<Self>, value: Bound) -> StopFuture {
        Box::pin(async move { self.stop(value) })
    }
}
