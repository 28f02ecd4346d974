//! **The atom-based restart pattern with axum: a web server held in an `Atom`, started,
//! stopped and restarted from a console, and torn down in reverse order on SIGINT/SIGTERM.**
//!
//! ```text
//! cargo run --example webapp            # port 8888
//! cargo run --example webapp -- 3000    # port from the first argument
//! PORT=3000 cargo run --example webapp  # ... else from $PORT
//! ```
//!
//! `GET /` answers `App Server Running`; `/healthz` and `/readyz` are built from
//! `lifecycle::status()`. The server listens on `$HOST` (default `127.0.0.1`).
//!
//! # The pieces
//!
//! * `CONFIG` and `HITS` are `#[defstate]` states: started on first use, tracked, stopped in
//!   reverse order.
//! * `SERVER` is the atom of the restart pattern. It holds the running server as a local
//!   [`AsyncState`], so the server is tracked like any state: `status()` lists it, `graph()`
//!   shows what its start read, and `stop()` — on a signal or at the end of `main` — stops it
//!   before the states it depends on.
//! * [`app_server_start`], [`app_server_stop`] and [`app_server_restart`] are the restart
//!   pattern: starting twice never binds twice (one turn at a time, and a running server is
//!   kept); stop is graceful with a 100 ms timeout and returns only when the port is free;
//!   restart when stopped starts.
//!
//! # The console
//!
//! `status`, `start`, `stop [name]`, `restart [name]`, `graph`, `help`, `quit` on stdin (see
//! `support/console.rs`). End of input closes the console, not the program: started without
//! console input (`</dev/null`, CI, a service manager) it serves until SIGINT/SIGTERM.
//!
//! # Signals and exit
//!
//! `#[lifecycle::main]` handles SIGINT/SIGTERM: every state stops in reverse order (the
//! server first, gracefully), then the process ends by that signal. `quit` stops everything
//! the same way and exits with status 0.

#[path = "support/mod.rs"]
mod support;

use axum::routing::get;
use axum::Router;
use lifecycle::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use support::console::{self, Ended};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;
use tracing::info;

/// How long a stopping server lets open requests finish before it drops them.
const GRACE: Duration = Duration::from_millis(100);

/// The name under which the running server is tracked.
const SERVER_STATE: &str = "webapp/server";

/// What the program was started with.
pub struct Config {
    pub host: String,
    pub port: u16,
}

impl Config {
    fn from_env() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Ok(Config {
            host: std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned()),
            port: support::port_from(&args, std::env::var("PORT").ok(), 8888)?,
        })
    }
}

#[defstate(name = "webapp/config")]
static CONFIG: Config = Config::from_env()?;

/// Requests served; the count is logged when the state stops.
#[defstate(
    name = "webapp/hits",
    stop = |hits| info!("served {} requests", hits.into_inner())
)]
static HITS: AtomicU64 = AtomicU64::new(0);

/// The running server, if any: the atom of the restart pattern.
static SERVER: Atom<AsyncState<Server>> = Atom::empty();

/// One start, stop or restart at a time: two racing starts would both find no server.
static TURN: Mutex<()> = Mutex::const_new(());

/// A server accepting connections on its own task.
pub struct Server {
    port: u16,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// The runtime the server runs on: its stop may be polled from a thread outside it (the
    /// teardown after a signal), so the timed part of the stop runs there.
    runtime: tokio::runtime::Handle,
}

impl Server {
    async fn start(port: u16) -> Result<Server, lifecycle::Error> {
        let host = CONFIG.get().host.clone();
        HITS.get(); // the handlers count requests in it: started before the server
        info!("Starting server on port: {port}");
        let listener = TcpListener::bind((host.as_str(), port)).await?;
        let app = Router::new()
            .route("/", get(root))
            .route("/healthz", get(|| async { support::health::healthz() }))
            .route(
                "/readyz",
                get(|| async {
                    support::health::readyz(&["webapp/config", "webapp/hits", SERVER_STATE])
                }),
            );
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await
        });
        Ok(Server {
            port,
            shutdown,
            task,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// Stops accepting, lets open requests finish for [`GRACE`], then drops them. When this
    /// returns, the listener is closed and the port is free.
    async fn stop(self) {
        info!("Application server shutting down...");
        let _ = self.shutdown.send(());
        let mut task = self.task;
        let finished = self.runtime.spawn(async move {
            if tokio::time::timeout(GRACE, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        });
        let _ = finished.await;
    }
}

async fn root() -> &'static str {
    HITS.get().fetch_add(1, Ordering::Relaxed);
    "App Server Running"
}

/// The port of the running server, if one runs.
fn running_port() -> Option<u16> {
    SERVER.load()?.peek().map(|server| server.port)
}

/// Starts the server on `port` unless one is running (then it says so and binds nothing).
pub async fn app_server_start(port: u16) -> Result<String, lifecycle::Error> {
    let _turn = TURN.lock().await;
    start_locked(port).await
}

async fn start_locked(port: u16) -> Result<String, lifecycle::Error> {
    if let Some(running) = running_port() {
        return Ok(format!("server already running on port {running}"));
    }
    let server = AsyncState::new(SERVER_STATE, move || Server::start(port))
        .with_stop(|server: Server| server.stop());
    server.try_get().await?;
    SERVER.reset(server);
    Ok(format!("server running on port {port}"))
}

/// Stops the server, gracefully; returns when its port is free.
pub async fn app_server_stop() -> Result<String, lifecycle::Error> {
    let _turn = TURN.lock().await;
    Ok(match stop_locked().await? {
        Some(port) => format!("server on port {port} stopped"),
        None => "no server running".to_owned(),
    })
}

async fn stop_locked() -> Result<Option<u16>, lifecycle::Error> {
    let Some(server) = SERVER.take() else {
        return Ok(None);
    };
    let port = server.peek().map(|server| server.port);
    server.stop().await?;
    Ok(port)
}

/// Stops the server if it runs and starts it again on the same port (or the configured one).
pub async fn app_server_restart() -> Result<String, lifecycle::Error> {
    let _turn = TURN.lock().await;
    let port = match stop_locked().await? {
        Some(port) => port,
        None => CONFIG.try_get()?.port,
    };
    start_locked(port).await
}

struct WebApp;

impl console::App for WebApp {
    fn describe(&self) -> String {
        match running_port() {
            Some(port) => format!("server: running on port {port}"),
            None => "server: stopped".to_owned(),
        }
    }

    async fn start(&self) -> Result<String, lifecycle::Error> {
        app_server_start(CONFIG.try_get()?.port).await
    }

    fn server_names(&self) -> &[&str] {
        &[SERVER_STATE, "server"]
    }

    async fn stop_server(&self) -> Result<String, lifecycle::Error> {
        app_server_stop().await
    }

    async fn restart_server(&self) -> Result<String, lifecycle::Error> {
        app_server_restart().await
    }

    async fn restart_state(&self, name: &str) -> Result<String, lifecycle::Error> {
        let (name, restart): (&str, fn() -> Result<(), lifecycle::Error>) = match name {
            SERVER_STATE | "server" => return app_server_restart().await,
            "webapp/config" | "config" => ("webapp/config", || CONFIG.restart()),
            "webapp/hits" | "hits" => ("webapp/hits", || HITS.restart()),
            other => return Err(format!("no state named `{other}` to restart").into()),
        };
        let _turn = TURN.lock().await;
        let port = running_port();
        // A sync restart stops the states that depend on this one (the server, if its start
        // read it) and may wait for their guards: off the async threads.
        tokio::task::spawn_blocking(restart)
            .await
            .map_err(lifecycle::Error::other)??;
        match port {
            Some(port) if running_port().is_none() => {
                start_locked(port).await?;
                Ok(format!("restarted {name} and {SERVER_STATE}"))
            }
            _ => Ok(format!("restarted {name}")),
        }
    }
}

#[lifecycle::main]
#[tokio::main]
async fn main() -> Result<(), lifecycle::Error> {
    support::init_logging();
    let port = CONFIG.try_get()?.port;
    println!("{}", app_server_start(port).await?);
    match console::run(&WebApp).await {
        Ended::Quit => Ok(()),
        Ended::EndOfInput => {
            info!("end of input: the console is closed; serving until SIGINT or SIGTERM");
            std::future::pending().await
        }
    }
}
