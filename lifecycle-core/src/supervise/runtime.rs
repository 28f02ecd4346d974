//! Where a supervised state's restarts and checks run: on the tokio runtime its start ran on
//! (captured when it starts, with the `tokio` feature), so what its start spawns survives;
//! otherwise on the supervisor's thread (`exec::block_on`), where a `tokio::spawn` would
//! panic and a spawned server task would die with the restart.
//!
//! Imports `exec` and `kernel`; must not import `state`, `async_state`, `health`, `shutdown` or
//! `private`.

use crate::kernel::BoxFuture;

/// The runtime a state's start ran on, if it is one the supervisor can spawn on.
#[derive(Clone, Default)]
pub(crate) struct Runtime {
    #[cfg(feature = "tokio")]
    tokio: Option<tokio::runtime::Handle>,
}

impl Runtime {
    /// The runtime of the calling task, if any.
    pub(crate) fn current() -> Self {
        Self {
            #[cfg(feature = "tokio")]
            tokio: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// True if `current()` found a runtime.
    pub(crate) fn is_some(&self) -> bool {
        #[cfg(feature = "tokio")]
        return self.tokio.is_some();
        #[cfg(not(feature = "tokio"))]
        false
    }

    /// Runs the future `make` makes to its end: spawned on the runtime (this thread waits
    /// for it), or driven on this thread if there is none or it has shut down.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        make: impl Fn() -> BoxFuture<'static, T>,
    ) -> T {
        #[cfg(feature = "tokio")]
        if let Some(runtime) = &self.tokio {
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            let future = make();
            drop(runtime.spawn(async move {
                let _ = sender.send(future.await);
            }));
            // A runtime that shut down drops the task (and the sender) unrun.
            if let Ok(value) = receiver.recv() {
                return value;
            }
        }
        crate::exec::block_on(make(), std::time::Duration::MAX)
            .expect("a future without a deadline ends")
    }
}
