//! [`Running`]: one server serving on its own tokio task, and its graceful stop — the engine
//! under [`Server`](super::Server), and what a `#[defstate]` server holds.
//!
//! Imports tokio and the runtime's [`FailHandle`] (through the crate root); must not import
//! `console` or `admin`.

use crate::FailHandle;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a stopping server lets open requests finish unless told otherwise: the seed's
/// `:timeout 100`.
pub const GRACE: Duration = Duration::from_millis(100);

/// The signal to shut down gracefully: a future that completes when the server is asked to
/// stop (give it to `axum::serve(...).with_graceful_shutdown`, or select on it).
#[derive(Debug)]
pub struct Shutdown(oneshot::Receiver<()>);

impl Future for Shutdown {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A dropped sender (the `Running` is gone) is a request to stop as well.
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A shutdown signal and the sender that fires it.
pub(crate) fn shutdown_pair() -> (oneshot::Sender<()>, Shutdown) {
    let (sender, receiver) = oneshot::channel();
    (sender, Shutdown(receiver))
}

/// A server serving on its own task: what [`Running::spawn`] started, until
/// [`stop`](Running::stop).
///
/// A `#[defstate]` server is one of these, stopped by its state's stop:
///
/// ```
/// use lifecycle::prelude::*;
/// use lifecycle::server::Running;
/// use tokio::net::TcpListener;
///
/// /// Accepts every connection, and closes it.
/// async fn hello(listener: TcpListener) -> std::io::Result<()> {
///     loop {
///         let (peer, _) = listener.accept().await?;
///         drop(peer);
///     }
/// }
///
/// #[defstate(name = "doc/hello", stop = |server| server.stop())]
/// static SERVER: Running = async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let port = listener.local_addr()?.port();
///     Running::spawn(port, |shutdown| async move {
///         tokio::select! {
///             () = shutdown => Ok(()),               // asked to stop: the listener is dropped
///             served = hello(listener) => served,
///         }
///     })?
/// };
///
/// # #[tokio::main] async fn main() -> Result<(), lifecycle::Error> {
/// let port = SERVER.get().await.port();
/// lifecycle::stop_async().await?;                        // graceful, at most 100 ms
/// assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());   // the port is free
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Running {
    port: u16,
    grace: Duration,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
    /// Claimed once, by whoever is first: [`stop`](Running::stop) before it asks the server
    /// to end (an end after it is no failure), or a supervised server's task that ended by
    /// itself and reported it (its error is the failure, not the stop's).
    claimed: Arc<AtomicBool>,
    /// The runtime the server runs on: its stop may be polled from a thread outside it (the
    /// teardown after a signal, a sync restart), so the timed part of the stop runs there.
    runtime: Handle,
}

impl Running {
    /// Spawns `serve(shutdown)` on the current tokio runtime: a server listening on `port`
    /// (already bound: `serve` owns the listener) that ends when `shutdown` completes.
    /// Returns a `Result` so it can end a state's start.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn<S>(port: u16, serve: impl FnOnce(Shutdown) -> S) -> Result<Running, crate::Error>
    where
        S: IntoFuture<Output = io::Result<()>>,
        S::IntoFuture: Send + 'static,
    {
        let (shutdown, signal) = shutdown_pair();
        Ok(Running::serving(port, shutdown, serve(signal), None))
    }

    /// Like [`spawn`](Running::spawn), for a supervised state: when the server's task ends
    /// (returns or panics) without being [stopped](Running::stop), it reports the failure
    /// through `fail` — the state's [`FailHandle`], taken in its start — so the supervisor
    /// restarts the state. A task cancelled with its runtime reports nothing.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn_supervised<S>(
        port: u16,
        fail: FailHandle,
        serve: impl FnOnce(Shutdown) -> S,
    ) -> Result<Running, crate::Error>
    where
        S: IntoFuture<Output = io::Result<()>>,
        S::IntoFuture: Send + 'static,
    {
        let (shutdown, signal) = shutdown_pair();
        Ok(Running::serving(port, shutdown, serve(signal), Some(fail)))
    }

    /// Spawns `server`, which ends when the [`Shutdown`] paired with `shutdown` completes;
    /// an end that no stop asked for fails `fail`, if given.
    pub(crate) fn serving<S>(
        port: u16,
        shutdown: oneshot::Sender<()>,
        server: S,
        fail: Option<FailHandle>,
    ) -> Running
    where
        S: IntoFuture<Output = io::Result<()>>,
        S::IntoFuture: Send + 'static,
    {
        let claimed = Arc::new(AtomicBool::new(false));
        let server = server.into_future();
        let task = match fail {
            None => tokio::spawn(server),
            Some(fail) => {
                let reporter = Reporter {
                    port,
                    fail,
                    claimed: Arc::clone(&claimed),
                    ended: None,
                };
                tokio::spawn(async move {
                    // A local of the task, so a panic below drops it while unwinding.
                    let mut guard = reporter;
                    let served = server.await;
                    guard.ended = Some(match &served {
                        Ok(()) => "ended".to_owned(),
                        Err(error) => format!("failed: {error}"),
                    });
                    served
                })
            }
        };
        Running {
            port,
            grace: GRACE,
            shutdown,
            task,
            claimed,
            runtime: Handle::current(),
        }
    }

    /// How long [`stop`](Running::stop) lets open requests finish ([`GRACE`] unless set).
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Running {
        self.grace = grace;
        self
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops gracefully: asks the server to shut down, lets open requests finish for the
    /// grace time, then drops them. When this returns the server's task has ended, so its
    /// listener is closed and the port is free. The error is the server's own, if it failed
    /// — unless it was a [supervised](Running::spawn_supervised) server whose task had
    /// ended by itself: that end was reported as the state's failure, and the stop (the
    /// supervisor's restart) succeeds.
    pub async fn stop(self) -> io::Result<()> {
        tracing::info!("Application server shutting down...");
        let reported = self.claimed.swap(true, Ordering::SeqCst);
        let _ = self.shutdown.send(());
        let (grace, mut task) = (self.grace, self.task);
        let finished = self.runtime.spawn(async move {
            match tokio::time::timeout(grace, &mut task).await {
                Ok(ended) => ended,
                Err(_) => {
                    task.abort();
                    task.await
                }
            }
        });
        match finished.await {
            Ok(Ok(_)) if reported => Ok(()),
            Ok(Ok(served)) => served,
            // Aborted after the grace time: dropped, as asked.
            Ok(Err(ended)) if ended.is_cancelled() => Ok(()),
            Ok(Err(ended)) => Err(io::Error::other(ended)),
            Err(ended) => Err(io::Error::other(ended)),
        }
    }
}

/// Lives in a supervised server's task: when the task ends by itself (`ended` is set) or
/// panics, and no stop claimed the end first, it claims it and fails the state. Dropped unfinished otherwise (the
/// task cancelled: a stop's abort after the grace time, or its runtime shutting down), it
/// says nothing.
struct Reporter {
    port: u16,
    fail: FailHandle,
    claimed: Arc<AtomicBool>,
    ended: Option<String>,
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let how = match self.ended.take() {
            Some(how) => how,
            None if std::thread::panicking() => "panicked".to_owned(),
            None => return,
        };
        if self.claimed.swap(true, Ordering::SeqCst) {
            return; // a stop asked for this end
        }
        // The supervisor logs it (`failed: ...`) and fires `Event::Failed`.
        self.fail
            .fail(format!("the server on port {} {how}", self.port));
    }
}
