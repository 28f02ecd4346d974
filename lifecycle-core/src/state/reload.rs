//! The sync driver of the kernel's reload (`kernel::reload`): a sync state's new start, its
//! wait for the stop right and for its readers, and the stop of a value that is no longer
//! the state's, all run on the calling thread as the reload is polled; the swap itself is the
//! kernel's. Also `State::reload`.
//!
//! Imports `kernel`, `error`, `exec` and `thread`; must not import `async_state`, `resource`,
//! `shutdown`, `slot`, `diagnostics` or `private`.

use super::core::Core;
use super::State;
use crate::error::Error;
use crate::kernel::cell::ValueCell;
use crate::kernel::reload::Swap;
use crate::kernel::{self, BoxFuture, Granted, Restarted, Want};
use crate::thread::Key;
use std::time::Duration;

impl<T: Send + Sync + 'static> Swap for Core<T> {
    type Value = T;

    fn start_new(&self) -> BoxFuture<'_, Result<T, Error>> {
        self.ensure_reader_id();
        Box::pin(async move { self.run_start() })
    }

    fn place(&self) -> (Key, &ValueCell<T>) {
        (self.key(), &self.cell)
    }

    fn stop_right(&self) -> BoxFuture<'_, Result<Granted, Error>> {
        Box::pin(async move { self.acquire(Want::Stop { force: false }, None) })
    }

    fn drain(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { self.wait_for_readers(timeout) })
    }

    fn stop_value(&self, value: T) -> BoxFuture<'_, Option<Error>> {
        Box::pin(async move { self.run_stop(value) })
    }
}

impl<T: Send + Sync + 'static> State<T> {
    /// Reloads the state as nginx reloads its configuration: starts a new value *beside* the
    /// old one (readers keep reading the old value meanwhile); only if that start succeeds,
    /// stops the realized dependents (newest first), swaps the new value in, stops the old
    /// one (its stop function runs once its readers have left), and starts again the
    /// dependents that were running, against the new value, in dependency order. The result
    /// names what it stopped and started.
    ///
    /// If the new start fails, nothing is touched: the old value keeps serving,
    /// [`is_realized`](Self::is_realized) stays true, and the error
    /// ([`Error::Reload`]) is returned, logged and reported to watchers as
    /// [`Event::ReloadFailed`](crate::Event::ReloadFailed) ([`Event::Reloaded`](crate::Event::Reloaded)
    /// on success). A state that is not realized is left alone (the result is empty): its
    /// next start reads the new configuration anyway.
    ///
    /// Any state can be reloaded; `#[defstate(reload)]` only marks the ones
    /// [`lifecycle::reload()`](crate::reload()) — and SIGHUP under `#[lifecycle::main]` —
    /// reload. A failing stop of the old value is reported as
    /// [`Event::StopFailed`](crate::Event::StopFailed) and does not undo the reload.
    ///
    /// ```
    /// use lifecycle::State;
    /// use std::sync::atomic::{AtomicU16, Ordering};
    /// use std::sync::Arc;
    ///
    /// static PORT: AtomicU16 = AtomicU16::new(8080);
    /// let config = Arc::new(State::new("doc-reload::config", || Ok(PORT.load(Ordering::SeqCst))));
    /// let c = Arc::clone(&config);
    /// let server = State::new("doc-reload::server", move || Ok(format!("on {}", *c.get())));
    /// assert_eq!(*server.get(), "on 8080");
    ///
    /// PORT.store(9090, Ordering::SeqCst);
    /// let reloaded = config.reload().unwrap();
    /// assert_eq!(reloaded.stopped, ["doc-reload::server", "doc-reload::config"]);
    /// assert_eq!(reloaded.started, ["doc-reload::config", "doc-reload::server"]);
    /// assert_eq!(*server.get(), "on 9090");
    /// ```
    pub fn reload(&self) -> Result<Restarted, Error> {
        let reload = kernel::reload::reload(self.core());
        crate::exec::block_on(reload, Duration::MAX).expect("a reload without a deadline ends")
    }
}
