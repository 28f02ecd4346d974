//! **The atom-based restart pattern as library code: a server held in one [`Atom`], started
//! on a port, stopped gracefully with a timeout, restarted.** (Feature `server`.)
//!
//! ```
//! use lifecycle::server::{Server, Shutdown};
//! use tokio::net::TcpListener;
//!
//! static SERVER: Server = Server::new("doc/server");
//!
//! /// Serves until asked to stop (a real one would be `axum::serve(listener, app)
//! /// .with_graceful_shutdown(shutdown)`).
//! async fn serve(listener: TcpListener, shutdown: Shutdown) -> std::io::Result<()> {
//!     shutdown.await;
//!     drop(listener);
//!     Ok(())
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), lifecycle::Error> {
//! let port = lifecycle::server::port_from(None, None, 0)?;   // argument, $PORT, default
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! let start = SERVER.start(port, |port, shutdown| async move {
//!     let listener = TcpListener::bind(("127.0.0.1", port)).await?;
//!     Ok(serve(listener, shutdown))
//! });
//! assert_eq!(start.await?.to_string(), format!("server running on port {port}"));
//! assert_eq!(SERVER.port(), Some(port));
//! assert!(lifecycle::status().iter().any(|state| state.name() == "doc/server"));
//!
//! SERVER.restart().await?;                       // stop, then start on the same port
//! assert_eq!(SERVER.stop().await?.to_string(), format!("server on port {port} stopped"));
//! assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());   // the port is free
//! # Ok(()) }
//! ```
//!
//! # Details
//!
//! - The running server is a tracked state named by [`Server::new`]: `status()` lists it,
//!   `graph()` shows what its start read, and `lifecycle::stop()` — at the end of
//!   `#[lifecycle::main]`, on SIGINT/SIGTERM — stops it before the states it depends on.
//! - The serve function runs inside the state's start: the states it reads (a config for
//!   the host, a counter its handlers use) are its dependencies, so restarting one of them
//!   stops the server first.
//! - One start, stop or restart at a time: two racing starts never bind twice; a start
//!   while the server runs says so and binds nothing.
//! - Stop is graceful: the [`Shutdown`] future completes, open requests get the grace time
//!   (100 ms unless [`Server::with_grace`] says otherwise), then they are dropped. When stop
//!   returns, the server's task has ended and the port is free.
//! - A stopped server is kept, so [`Server::restart`] (and the console's `start`) start it
//!   again on the same port with the same serve function; [`Server::start`] replaces them.
//! - [`port`] and [`port_from`] give the port as the seed does: the first argument, else
//!   `$PORT`, else a default.
//! - With the `console` feature a `&'static Server` is a [`console::Part`](crate::console::Part):
//!   `stop server`, `restart server` and the `status` line `server: running on port 8888`.
//! - [`Running`] is the engine underneath — one server on its own task and its graceful
//!   stop — for a server declared as a `#[defstate]` of its own.
//!
//! # Dependencies
//!
//! The feature brings in tokio (`net`, `rt`, `sync`, `time`) — the server's task, its
//! shutdown signal, its grace timer and its one-turn lock — and `tracing` (already in the
//! build through lifecycle-core) for its INFO lines (`Starting server on port: 8888`).
//! axum is not among them: the serve function is any future, `axum::serve(...)` included.
//!
//! The module owns the server's slot and turn (`mod.rs`) and the running server (`running`).
//! Imports the runtime (through the crate root) and tokio, and `console` only to implement its
//! `Part`; must not import `admin`, which is built on it.

mod running;

pub use running::{Running, Shutdown, GRACE};

use crate::{AsyncState, Atom, Error, Supervise};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// A server held in one [`Atom`]: started on a port, stopped gracefully, restarted. See the
/// [module documentation](self).
pub struct Server {
    name: &'static str,
    grace: Duration,
    /// Set by [`Server::supervise`]: how the server's state is supervised.
    supervise: Option<Supervise>,
    /// The server: its state (running or stopped), or nothing before the first start.
    current: Atom<Slot>,
    /// One start, stop or restart at a time.
    turn: tokio::sync::Mutex<()>,
}

/// The server's state, shared (weakly) with its own start, which takes its fail handle.
struct Slot(Arc<AsyncState<Running>>);

/// What [`Server::start`] and [`Server::restart`] did; `Display` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It started on this port.
    Now {
        /// The port.
        port: u16,
    },
    /// It was running already on this port; nothing was bound.
    Already {
        /// The port.
        port: u16,
    },
}

/// What [`Server::stop`] did; `Display` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It stopped; the port is free.
    Now {
        /// The port it listened on.
        port: u16,
    },
    /// No server was running.
    NotRunning,
}

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Started::Now { port } => write!(f, "server running on port {port}"),
            Started::Already { port } => write!(f, "server already running on port {port}"),
        }
    }
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Now { port } => write!(f, "server on port {port} stopped"),
            Stopped::NotRunning => f.write_str("no server running"),
        }
    }
}

impl Server {
    /// A server, not started, tracked under `name` once it is; `const`, for a `static`.
    pub const fn new(name: &'static str) -> Server {
        Server {
            name,
            grace: GRACE,
            supervise: None,
            current: Atom::empty(),
            turn: tokio::sync::Mutex::const_new(()),
        }
    }

    /// The same server, letting open requests finish for `grace` when it stops.
    #[must_use]
    pub const fn with_grace(mut self, grace: Duration) -> Server {
        self.grace = grace;
        self
    }

    /// The same server, supervised with `config`: when its serve task ends without a stop
    /// (it returned, failed or panicked), the task reports the failure and the supervisor
    /// restarts the server's state — on the same port, after the backoff, counting toward
    /// the restart intensity — as it restarts any
    /// [supervised state](crate::State::supervise). While it restarts the state is not
    /// realized, so [`health`](crate::health) does not count it ready.
    #[must_use]
    pub const fn supervise(mut self, config: Supervise) -> Server {
        self.supervise = Some(config);
        self
    }

    /// The name it is tracked under.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The port it listens on, if it runs.
    pub fn port(&self) -> Option<u16> {
        self.current.load()?.0.peek().map(|running| running.port())
    }

    /// Starts the server on `port` unless it runs: `serve(port, shutdown)` binds a listener
    /// and returns the server's future, which must end once `shutdown` completes. It runs
    /// inside the server's start, so the states it reads are recorded as the server's
    /// dependencies. A failed start leaves no server running and the error comes back.
    pub async fn start<S, F, A>(&self, port: u16, serve: S) -> Result<Started, Error>
    where
        S: Fn(u16, Shutdown) -> F + Send + Sync + 'static,
        F: Future<Output = Result<A, Error>> + Send + 'static,
        A: IntoFuture<Output = std::io::Result<()>>,
        A::IntoFuture: Send + 'static,
    {
        self.start_on(move || Ok(port), serve).await
    }

    /// Like [`start`](Self::start), but the port is asked of `port` inside the server's
    /// start, each time it starts: a port read from a state (a config) makes that state a
    /// dependency, so a restart or [reload](crate::State::reload) of the config restarts
    /// the server on the new port.
    pub async fn start_on<P, S, F, A>(&self, port: P, serve: S) -> Result<Started, Error>
    where
        P: Fn() -> Result<u16, Error> + Send + Sync + 'static,
        S: Fn(u16, Shutdown) -> F + Send + Sync + 'static,
        F: Future<Output = Result<A, Error>> + Send + 'static,
        A: IntoFuture<Output = std::io::Result<()>>,
        A::IntoFuture: Send + 'static,
    {
        let _turn = self.turn.lock().await;
        if let Some(port) = self.port() {
            return Ok(Started::Already { port });
        }
        let serve = Arc::new(serve);
        let port = Arc::new(port);
        let grace = self.grace;
        let me: Arc<OnceLock<Weak<AsyncState<Running>>>> = Arc::default();
        let slot = Arc::clone(&me);
        let state = AsyncState::new(self.name, move || {
            let (serve, port, me) = (Arc::clone(&serve), Arc::clone(&port), Arc::clone(&slot));
            async move {
                // Taken in the start: the handle of this realization, for the serve task.
                let fail = me.get().and_then(Weak::upgrade).map(|me| me.fail_handle());
                let port = port()?;
                tracing::info!("Starting server on port: {port}");
                let (shutdown, signal) = running::shutdown_pair();
                // Binding happens here, inside the start: a port in use fails the start.
                let server = serve(port, signal).await?;
                let running = Running::serving(port, shutdown, server, fail);
                Ok::<_, Error>(running.with_grace(grace))
            }
        })
        .with_stop(Running::stop);
        let state = match &self.supervise {
            Some(config) => state.supervise(config.clone()),
            None => state,
        };
        let state = Arc::new(state);
        let _ = me.set(Arc::downgrade(&state));
        let port = state.try_get().await?.port();
        // The previous server, if any, is stopped (it was not running): dropping it is free.
        self.current.reset(Slot(state));
        Ok(Started::Now { port })
    }

    /// Stops the server gracefully; when this returns, its port is free. The server is kept
    /// for [`restart`](Server::restart).
    pub async fn stop(&self) -> Result<Stopped, Error> {
        let _turn = self.turn.lock().await;
        let Some(slot) = self.current.load() else {
            return Ok(Stopped::NotRunning);
        };
        let state = &slot.0;
        let Some(port) = state.peek().map(|running| running.port()) else {
            return Ok(Stopped::NotRunning);
        };
        state.stop().await?;
        Ok(Stopped::Now { port })
    }

    /// Stops the server if it runs and starts it again, on the port and with the serve
    /// function of its last [`start`](Server::start). An error if it was never started.
    pub async fn restart(&self) -> Result<Started, Error> {
        let _turn = self.turn.lock().await;
        let state = self.last()?;
        state.restart().await?;
        let port = state.peek().map(|running| running.port());
        port.map(|port| Started::Now { port })
            .ok_or_else(|| Error::from(format!("{} stopped while it restarted", self.name)))
    }

    /// Starts the server of the last [`start`](Server::start) again unless it runs.
    pub async fn resume(&self) -> Result<Started, Error> {
        let _turn = self.turn.lock().await;
        if let Some(port) = self.port() {
            return Ok(Started::Already { port });
        }
        let port = self.last()?.try_get().await?.port();
        Ok(Started::Now { port })
    }

    fn last(&self) -> Result<Arc<AsyncState<Running>>, Error> {
        let slot = self.current.load();
        slot.map(|slot| Arc::clone(&slot.0)).ok_or_else(|| {
            Error::from(format!(
                "{} was never started: call `Server::start` with a port first",
                self.name
            ))
        })
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("port", &self.port())
            .finish()
    }
}

/// The port as the seed reads it: the program's first argument, else `$PORT`, else
/// `default`. An argument or `$PORT` that is not a port number is an error naming it.
pub fn port(default: u16) -> Result<u16, Error> {
    port_from(std::env::args().nth(1), std::env::var("PORT").ok(), default)
}

/// [`port`] from given values: `argument`, else `env`, else `default`.
///
/// ```
/// use lifecycle::server::port_from;
///
/// assert_eq!(port_from(Some("3000".into()), Some("4000".into()), 8888).unwrap(), 3000);
/// assert_eq!(port_from(None, Some("4000".into()), 8888).unwrap(), 4000);
/// assert_eq!(port_from(None, None, 8888).unwrap(), 8888);
/// let error = port_from(Some("eighty".into()), None, 8888).unwrap_err();
/// assert!(error.to_string().starts_with("the port in the first argument (`eighty`) is not a port number"));
/// ```
pub fn port_from(
    argument: Option<String>,
    env: Option<String>,
    default: u16,
) -> Result<u16, Error> {
    let (text, from) = match (argument, env) {
        (Some(argument), _) => (argument, "the first argument"),
        (None, Some(env)) => (env, "$PORT"),
        (None, None) => return Ok(default),
    };
    text.trim().parse().map_err(|error| {
        Error::from(format!(
            "the port in {from} (`{text}`) is not a port number: {error}"
        ))
    })
}

#[cfg(feature = "console")]
mod part {
    use super::Server;
    use crate::console::{BoxFuture, Part, Said};
    use crate::Error;

    /// `start`, `stop`, `restart` and `status` of the console drive the server.
    impl Part for Server {
        fn name(&self) -> &str {
            self.name
        }

        fn is_running(&self) -> bool {
            self.port().is_some()
        }

        fn start(&'static self) -> BoxFuture<Result<Said, Error>> {
            Box::pin(async move { Ok(Some(self.resume().await?.to_string())) })
        }

        fn stop(&'static self) -> BoxFuture<Result<Said, Error>> {
            Box::pin(async move { Ok(Some(Server::stop(self).await?.to_string())) })
        }

        fn restart(&'static self) -> BoxFuture<Result<Said, Error>> {
            Box::pin(async move { Ok(Some(Server::restart(self).await?.to_string())) })
        }

        fn describe(&self) -> Option<String> {
            let short = self.name.rsplit(['/', ':']).next().unwrap_or(self.name);
            Some(match self.port() {
                Some(port) => format!("{short}: running on port {port}"),
                None => format!("{short}: stopped"),
            })
        }
    }
}
