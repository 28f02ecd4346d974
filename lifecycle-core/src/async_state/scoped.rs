//! Reads, starts and stops of an async state in an isolation scope (the rule is on
//! `lifecycle::isolate`): the scope's private value, then a value realized globally, else a
//! private start, polled in this task, whose value only this scope sees.
//!
//! Reached only when the polling thread has a scope installed; plain tasks never get here.
//! Imports `error`, `exec`, `isolation`, `kernel` and `thread`; must not import `private`,
//! `diagnostics` or `stop_kind` (they import it).

use super::core::{bounded_stop, AsyncCore};
use super::definition::AsyncStopFn;
use crate::exec::{block_on, catch_unwind_future, sleep};
use super::guard::AsyncRef;
use super::AsyncState;
use crate::error::{BoxError, Error};
use crate::isolation::scope::{self, Private, StopFuture, Teardown};
use crate::kernel::{self, stop_timeout};
use crate::thread::{self, Bound};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// True if the polling thread has a scope (and so reads resolve through it).
    #[inline]
    pub(super) fn in_scope() -> bool {
        !thread::is_plain() && scope::active()
    }

    /// `try_get` inside a scope.
    pub(super) async fn get_scoped(&self) -> Result<AsyncRef<T>, Error> {
        let key = self.core().key();
        scope::record_dependency(key);
        loop {
            if let Some(value) = self.peek_private() {
                return Ok(value);
            }
            if let Some(value) = self.enter() {
                return Ok(value);
            }
            // Another read of this scope's future is starting it (`join!`): one start per
            // scope, so wait for that one. (This poll's own start would be a cycle.)
            if !scope::in_flight(key) || thread::activity(key).is_some() {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        let value = self.core().start_private().await?;
        Ok(self.private_ref(value))
    }

    /// This thread's private value, for `peek`.
    pub(super) fn peek_private(&self) -> Option<AsyncRef<T>> {
        scope::private(self.core().key()).map(|value| self.private_ref(value))
    }

    /// True if the polling thread's scope holds a private value of this state.
    pub(super) fn is_private(&self) -> bool {
        Self::in_scope() && scope::private(self.core().key()).is_some()
    }

    /// Stops the private value (private dependents first, each awaited), if the polling
    /// thread's scope has one.
    pub(super) async fn stop_private(&self) -> Option<Result<(), Error>> {
        if !Self::in_scope() {
            return None;
        }
        let mut result = Ok(());
        for entry in scope::take_private(self.core().key())? {
            if let Err(error) = entry.teardown.stop_async(entry.value).await {
                if result.is_ok() {
                    result = Err(error);
                }
            }
        }
        Some(result)
    }

    fn private_ref(&self, value: Bound) -> AsyncRef<T> {
        let typed: *const T = value
            .downcast_ref::<T>()
            .expect("a private value has the type of its state");
        // SAFETY: `typed` points into `value`, which the guard keeps alive.
        AsyncRef::private(unsafe { &*typed }, value)
    }
}

impl<T: Send + Sync + 'static> AsyncCore<T> {
    /// Polls the start function in this task for the polling thread's innermost scope: the
    /// value goes into the scope, never into the cell, the registry or the graph.
    async fn start_private(&self) -> Result<Bound, Error> {
        let key = self.key();
        scope::begin_start(key, &self.info)?;
        let _flight = scope::fly(key);
        let started = kernel::start_result(&self.info, self.call_start().await);
        let stop = self.definition().stop.clone();
        scope::keep_started(key, &self.info, started, stop)
    }
}

/// A private async value stops with the stop future, awaited by `isolate_async` or driven on
/// the tearing-down thread by a sync teardown.
impl<T: Send + Sync + 'static> Teardown for Private<AsyncStopFn<T>> {
    fn stop(self: Box<Self>, value: Bound) -> Result<(), Error> {
        let backstop = kernel::backstop(stop_timeout());
        let state = self.info.name().to_owned();
        block_on(self.stop_async(value), backstop).unwrap_or_else(|| {
            Err(Error::Stop {
                state,
                source: BoxError::from(format!(
                    "the async stop did not finish within {backstop:?} on a blocked thread"
                )),
            })
        })
    }

    fn stop_async(self: Box<Self>, value: Bound) -> StopFuture {
        Box::pin(async move {
            let info = self.info;
            let value = scope::take::<T>(value, &info)?;
            let stop = self.stop;
            // Making the future runs user code too.
            let future = match catch_unwind(AssertUnwindSafe(|| stop.call(value))) {
                Ok(future) => future,
                Err(payload) => {
                    return kernel::stop_failure(&info, Err(payload)).map_or(Ok(()), Err)
                }
            };
            let stopping = catch_unwind_future(future);
            bounded_stop(&info, stopping, stop_timeout())
                .await
                .map_or(Ok(()), Err)
        })
    }
}
