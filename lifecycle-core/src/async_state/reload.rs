//! The async driver of the kernel's reload (`kernel::reload`): an async state's new start,
//! its wait for the stop right and for its guards, and the stop of a value that is no longer
//! the state's, polled in the caller's task (tasks the start spawns run on the caller's
//! runtime); the swap itself, and giving its stop right back if the reload is dropped, are the
//! kernel's. Also `AsyncState::reload`.
//!
//! Imports `kernel`, `error` and `thread`; must not import `diagnostics`, `stop_kind` or
//! `private`.

use super::core::AsyncCore;
use super::AsyncState;
use crate::error::Error;
use crate::kernel::cell::ValueCell;
use crate::kernel::reload::Swap;
use crate::kernel::{self, BoxFuture, Granted, Restarted, Want};
use crate::thread::Key;
use std::time::Duration;

impl<T: Send + Sync + 'static> Swap for AsyncCore<T> {
    type Value = T;

    fn start_new(&self) -> BoxFuture<'_, Result<T, Error>> {
        Box::pin(self.run_start())
    }

    fn place(&self) -> (Key, &ValueCell<T>) {
        (self.key(), &self.cell)
    }

    fn stop_right(&self) -> BoxFuture<'_, Result<Granted, Error>> {
        Box::pin(self.acquire(Want::Stop { force: false }, None))
    }

    fn drain(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.wait_for_guards(timeout))
    }

    fn stop_value(&self, value: T) -> BoxFuture<'_, Option<Error>> {
        Box::pin(self.run_stop(value, kernel::stop_timeout()))
    }
}

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// Reloads the state, like [`State::reload`](crate::State::reload): starts a new value
    /// beside the old one (readers keep reading the old value meanwhile) and only if that
    /// start succeeds stops the realized dependents, swaps the new value in, stops the old
    /// one and starts the dependents that were running again, against the new value. A
    /// failed new start leaves everything as it was and returns [`Error::Reload`]. An
    /// unrealized state is left alone (the result is empty).
    ///
    /// The new start runs in this task, so the tasks it spawns belong to the caller's runtime.
    pub async fn reload(&self) -> Result<Restarted, Error> {
        kernel::reload::reload(self.core()).await
    }
}
