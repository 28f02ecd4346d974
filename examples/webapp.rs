//! **The atom-based restart pattern with axum: a web server held in an `Atom`, started,
//! stopped and restarted from a console, and torn down in reverse order on SIGINT/SIGTERM.**
//!
//! ```text
//! cargo run --example webapp            # port 8888
//! cargo run --example webapp -- 3000    # port from the first argument
//! PORT=3000 cargo run --example webapp  # ... else from $PORT
//! WEBAPP_CONFIG=webapp.conf cargo run --example webapp   # ... but first from this file
//! ```
//!
//! The config file (optional, named by `$WEBAPP_CONFIG`) holds `port = 3000` and/or
//! `host = 127.0.0.1` lines; what it leaves out comes from the argument, `$PORT`, `$HOST`
//! or the defaults. `CONFIG` is reloadable: edit the file and `kill -HUP <pid>`, and the
//! server moves to the new port while the hit counter keeps counting (a broken file is
//! logged and the server keeps serving on the old port).
//!
//! `GET /` answers `App Server Running`; `GET /hits` the number of `GET /` served (the `HITS`
//! state, which a hot patch keeps); with `LIFECYCLE_CRASH_ROUTE=1`, `POST /crash` makes the
//! server's task die (see "Supervision" below); `/healthz` and `/readyz` are served from
//! `lifecycle::health()`; `/lifecycle` is the live admin page ([`lifecycle::admin`]: the
//! states as a picture and a table, with restart buttons; it prints its address and token at
//! start, the token from `$LIFECYCLE_TOKEN` or generated). The server listens on `$HOST`
//! (default `127.0.0.1`).
//!
//! # The pieces
//!
//! * `CONFIG` and `HITS` are `#[defstate]` states: started on first use, tracked, stopped in
//!   reverse order.
//! * `SERVER` is the atom of the restart pattern: a [`lifecycle::server::Server`] holds the
//!   running server in one `Atom`, tracked like any state: `status()` lists it, `graph()`
//!   shows what its start read, and `stop()` — on a signal or at the end of `main` — stops it
//!   before the states it depends on.
//! * [`app_server_start`], [`app_server_stop`] and [`app_server_restart`] are the seed's
//!   three functions: starting twice never binds twice; stop is graceful with a 100 ms
//!   timeout and returns only when the port is free; restart when stopped starts.
//!
//! # Supervision
//!
//! `SERVER` is supervised ([`Server::supervise`]): when its task ends without a stop, the
//! server comes back on the same port after a backoff (100 ms, doubling up to 2 s), and
//! `/readyz` answers 503 while it restarts. Try it:
//!
//! ```text
//! LIFECYCLE_CRASH_ROUTE=1 cargo run --example webapp -- 3000 </dev/null
//! curl -X POST localhost:3000/crash; curl localhost:3000/readyz; sleep 1; curl localhost:3000/
//! ```
//!
//! More than 5 crashes within a minute gives up: `/healthz` answers 503 and the process
//! tears down and exits with `lifecycle::EXIT_GAVE_UP` (70).
//!
//! # The console
//!
//! [`lifecycle::console`]: `status`, `start`, `stop [name]`, `restart [name]`, `graph`,
//! `help`, `quit` on stdin; replies on stdout, logs on stderr. End of input closes the
//! console, not the program: started without console input (`</dev/null`, CI, a service
//! manager) it serves until SIGINT/SIGTERM.
//!
//! # Signals and exit
//!
//! `#[lifecycle::main]` handles SIGINT/SIGTERM: every state stops in reverse order (the
//! server first, gracefully), then the process ends by that signal. SIGHUP reloads
//! `CONFIG` (see above) and never ends the process. `quit` stops everything
//! the same way and exits with status 0.

#[path = "support/mod.rs"]
mod support;

use axum::routing::get;
use axum::Router;
use lifecycle::console::{Console, Ended};
use lifecycle::prelude::*;
use lifecycle::server::{Server, Started, Stopped};
use lifecycle::{Error, Supervise};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tracing::info;

/// What the program was started with.
pub struct Config {
    pub host: String,
    pub port: u16,
}

/// Reloaded on SIGHUP (`reload`): the server, which reads it, restarts against the new one.
#[defstate(name = "webapp/config", reload)]
static CONFIG: Config = read_config()?;

/// The config file named by `$WEBAPP_CONFIG` (if any), then the argument, `$PORT`, `$HOST`
/// and the defaults.
fn read_config() -> Result<Config, Error> {
    let mut config = Config {
        host: std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned()),
        port: lifecycle::server::port(8888)?,
    };
    let Some(path) = std::env::var_os("WEBAPP_CONFIG") else {
        return Ok(config);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| Error::other(format!("reading {}: {error}", path.to_string_lossy())))?;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("port", port)) => {
                config.port = port
                    .parse()
                    .map_err(|error| Error::other(format!("port `{port}`: {error}")))?;
            }
            Some(("host", host)) => config.host = host.to_owned(),
            _ => {
                return Err(Error::other(format!(
                    "config line `{line}`: expected `port = N` or `host = H`"
                )))
            }
        }
    }
    Ok(config)
}

/// Requests served; the count is logged when the state stops.
#[defstate(
    name = "webapp/hits",
    stop = |hits| info!("served {} requests", hits.into_inner())
)]
static HITS: AtomicU64 = AtomicU64::new(0);

/// The routes. Built inside the server's start, so the states read here are its
/// dependencies (and started before it).
fn app() -> Router {
    HITS.get(); // the handlers count requests in it
    Router::new()
        .route("/", get(root))
        .route(
            "/hits",
            get(|| async { HITS.get().load(Ordering::Relaxed).to_string() }),
        )
        .merge(support::health::routes(&[
            "webapp/config",
            "webapp/hits",
            "webapp/server",
        ]))
        .nest(
            "/lifecycle",
            lifecycle::admin::router(
                support::admin::admin()
                    .state(&CONFIG)
                    .state(&HITS)
                    .main(&SERVER),
            ),
        )
}

async fn root() -> &'static str {
    // Under `hot` the body is called through the jump table: an edit of it is served at
    // once, with no restart (it is not a state's start).
    #[cfg(feature = "hot")]
    return lifecycle::hot::call(root_body);
    #[cfg(not(feature = "hot"))]
    root_body()
}

/// The body of `GET /`: counts the request.
fn root_body() -> &'static str {
    HITS.get().fetch_add(1, Ordering::Relaxed);
    "App Server Running"
}

/// The running server, if any: the atom of the restart pattern. Supervised: when its task
/// ends without a stop (`POST /crash` with `LIFECYCLE_CRASH_ROUTE=1`), it comes back on the
/// same port after a backoff; more than 5 crashes within a minute gives up and ends the
/// process with `lifecycle::EXIT_GAVE_UP`.
static SERVER: Server = Server::new("webapp/server").supervise(
    Supervise::new()
        .backoff(Duration::from_millis(100), Duration::from_secs(2))
        .max_restarts(5)
        .within(Duration::from_secs(60)),
);

/// Starts the server on the config's port unless one is running (then it says so and binds
/// nothing). The port is read inside the server's start, so a reload of the config restarts
/// the server on the new port.
pub async fn app_server_start() -> Result<Started, Error> {
    let serve = |port, shutdown| async move {
        let host = CONFIG.get().host.clone();
        let listener = TcpListener::bind((host, port)).await?;
        Ok(support::crash::crashable(app(), |app| {
            axum::serve(listener, app).with_graceful_shutdown(shutdown)
        }))
    };
    SERVER.start_on(|| Ok(CONFIG.try_get()?.port), serve).await
}

/// Stops the server, gracefully; returns when its port is free.
pub async fn app_server_stop() -> Result<Stopped, Error> {
    SERVER.stop().await
}

/// Stops the server if it runs and starts it again on the same port.
pub async fn app_server_restart() -> Result<Started, Error> {
    SERVER.restart().await
}

#[lifecycle::main]
#[tokio::main]
async fn main() -> Result<(), Error> {
    support::init_logging();
    #[cfg(feature = "hot")]
    {
        // Each patch's restarts run on the patch thread, inside this runtime (the server
        // binds and spawns there).
        let runtime = tokio::runtime::Handle::current();
        lifecycle::hot::connect_with(move |restart| {
            let _entered = runtime.enter();
            restart();
        });
    }
    println!("{}", app_server_start().await?);
    support::admin::print_url(&CONFIG.get().host, CONFIG.get().port);
    let console = Console::new().state(&CONFIG).state(&HITS).main(&SERVER);
    if console.run_async().await == Ended::EndOfInput {
        info!("end of input: the console is closed; serving until SIGINT or SIGTERM");
        std::future::pending::<()>().await;
    }
    Ok(())
}
