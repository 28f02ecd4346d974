//! [`Part`]: what the console can start, stop and restart by name — a [`State`], an
//! [`AsyncState`], or anything of the program's that implements it (the server helper does).
//!
//! Imports only the runtime (`State`, `AsyncState`, `Error`, through the crate root) and tokio;
//! must not import the console's engine, nor `server` or `admin` (the server implements `Part`).

use crate::{AsyncState, Error, State};
use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future: what a [`Part`]'s operations return, so parts of different types
/// sit in one list.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What an operation of a part says beyond the events the console sees itself (for example
/// `server running on port 8888`); `None` when the started and stopped states say it all.
pub type Said = Option<String>;

/// Something the console starts, stops and restarts by name.
///
/// Implemented for every [`State`] and [`AsyncState`] (as `&'static`, so for statics) and by
/// [`server::Server`](crate::server::Server) with the `server` feature. A program's own part
/// implements the four operations; the console reports what started and stopped meanwhile.
///
/// ```
/// use lifecycle::console::{BoxFuture, Part, Said};
/// use lifecycle::Error;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// /// A worker switched on and off by a flag.
/// struct Worker(AtomicBool);
///
/// impl Part for Worker {
///     fn name(&self) -> &str { "app/worker" }
///     fn is_running(&self) -> bool { self.0.load(Ordering::SeqCst) }
///     fn start(&'static self) -> BoxFuture<Result<Said, Error>> {
///         Box::pin(async move { self.0.store(true, Ordering::SeqCst); Ok(Some("worker on".into())) })
///     }
///     fn stop(&'static self) -> BoxFuture<Result<Said, Error>> {
///         Box::pin(async move { self.0.store(false, Ordering::SeqCst); Ok(Some("worker off".into())) })
///     }
/// }
///
/// static WORKER: Worker = Worker(AtomicBool::new(false));
/// let console = lifecycle::console::Console::new().state(&WORKER);
/// assert_eq!(console.execute_blocking("start worker").text(), "worker on");
/// assert_eq!(console.execute_blocking("restart worker").text(), "worker off\nworker on");
/// ```
pub trait Part: Send + Sync + 'static {
    /// The full name (`restart` and `stop` also accept a unique last segment of it).
    fn name(&self) -> &str;
    /// True while it runs (a state: realized).
    fn is_running(&self) -> bool;
    /// Starts it unless it runs.
    fn start(&'static self) -> BoxFuture<Result<Said, Error>>;
    /// Stops it (what depends on it is stopped by the console first).
    fn stop(&'static self) -> BoxFuture<Result<Said, Error>>;
    /// Stops it and starts it again; by default [`stop`](Self::stop), then
    /// [`start`](Self::start), each saying its part.
    fn restart(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(async move {
            let stopped = self.stop().await?;
            let started = self.start().await?;
            Ok(join_said(stopped, started))
        })
    }
    /// Its line in `status` (for example `server: running on port 8888`), if any.
    fn describe(&self) -> Option<String> {
        None
    }
}

/// Both lines, either, or none.
pub(crate) fn join_said(first: Said, second: Said) -> Said {
    match (first, second) {
        (Some(first), Some(second)) => Some(format!("{first}\n{second}")),
        (first, second) => first.or(second),
    }
}

impl<T: Send + Sync + 'static> Part for State<T> {
    fn name(&self) -> &str {
        State::name(self)
    }

    fn is_running(&self) -> bool {
        self.is_realized()
    }

    fn start(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(offload(move || self.try_get().map(|_| None)))
    }

    fn stop(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(offload(move || State::stop(self).map(|()| None)))
    }

    fn restart(&'static self) -> BoxFuture<Result<Said, Error>> {
        // `restart_alone`: the console brings back the parts registered with it itself, each
        // in its own runtime context (a server's task must be spawned on the program's
        // runtime, not inside the sync restart's own executor).
        Box::pin(offload(move || {
            State::restart_alone(self).map(|_restarted| None)
        }))
    }
}

impl<T: Send + Sync + 'static> Part for AsyncState<T> {
    fn name(&self) -> &str {
        AsyncState::name(self)
    }

    fn is_running(&self) -> bool {
        self.is_realized()
    }

    fn start(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(async move { self.try_get().await.map(|_| None) })
    }

    fn stop(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(async move { AsyncState::stop(self).await.map(|()| None) })
    }

    fn restart(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(async move { AsyncState::restart_alone(self).await.map(|_restarted| None) })
    }
}

/// Runs a sync operation that may block (a stop waits for guards, a start may do I/O): on
/// tokio's blocking threads inside a runtime, so the async threads keep serving; inline
/// elsewhere (the sync console's own thread).
pub(crate) async fn offload<T: Send + 'static>(
    operation: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(operation).await {
            Ok(result) => result,
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(error) => Err(Error::other(error)),
            },
        },
        Err(_) => operation(),
    }
}
