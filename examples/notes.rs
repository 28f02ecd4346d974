//! **A notes HTTP API whose config, SQLite database and server are states: restart the server
//! and the database stays; restart the database and the server restarts with it; the notes
//! are on disk and survive both, and the process itself.**
//!
//! ```text
//! cargo run --example notes -- 3000 ./notes-data   # port, data directory
//! PORT=3000 NOTES_DIR=./notes-data cargo run --example notes
//! ```
//!
//! Without them: port 8888 and `<temp dir>/lifecycle-notes`. The server listens on `$HOST`
//! (default `127.0.0.1`).
//!
//! | request | answer |
//! |---|---|
//! | `POST /notes` (the note as the body) | `201`, the new note's id |
//! | `GET /notes` | one `id<TAB>text` line per note |
//! | `GET /notes/{id}` | the note, or `404` |
//! | `GET /stats` | how often the database and the server were started, and the note count |
//! | `GET /healthz`, `GET /readyz` | from `lifecycle::status()` |
//!
//! # The pieces
//!
//! * `CONFIG` — `#[defstate]`: port, host, data directory.
//! * `STORE` — `#[defstate]` over a `mk_system!` system of two resources: the data directory
//!   with its lock file (one process per directory) and the SQLite connection. If opening the
//!   database fails, the lock is released again (the system's rollback); stopping the state
//!   closes the connection, then releases the lock.
//! * `SERVER` — `#[defstate]` with an `async` initializer: an axum server whose start reads
//!   `CONFIG` and `STORE`, so `graph` shows both edges and restarting the store stops the
//!   server first.
//!
//! The console (`status`, `start`, `stop [name]`, `restart [name]`, `graph`, `help`, `quit`) and the
//! signals behave as in the webapp example.

#[path = "support/mod.rs"]
mod support;

use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use lifecycle::prelude::*;
use lifecycle::Error;
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use support::console::{self, Ended};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

/// How long a stopping server lets open requests finish before it drops them.
const GRACE: Duration = Duration::from_millis(100);

/// How many times the store and the server have started in this process.
static STORE_STARTS: AtomicU64 = AtomicU64::new(0);
static SERVER_STARTS: AtomicU64 = AtomicU64::new(0);

/// What the program was started with.
pub struct Config {
    pub host: String,
    pub port: u16,
    pub dir: PathBuf,
}

impl Config {
    fn from_env() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let dir = args
            .get(1)
            .cloned()
            .or_else(|| std::env::var("NOTES_DIR").ok())
            .map_or_else(
                || std::env::temp_dir().join("lifecycle-notes"),
                PathBuf::from,
            );
        Ok(Config {
            host: std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned()),
            port: support::port_from(&args, std::env::var("PORT").ok(), 8888)?,
            dir,
        })
    }
}

#[defstate(name = "notes/config")]
static CONFIG: Config = Config::from_env()?;

/// The data directory, held by a lock file so two processes never share it.
pub struct DataDir {
    path: PathBuf,
    lock: PathBuf,
}

impl DataDir {
    fn acquire(path: &Path) -> Result<DataDir, Error> {
        std::fs::create_dir_all(path)?;
        let lock = path.join("notes.lock");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
            .map_err(|error| {
                format!(
                    "{} is in use (remove it if no other notes server runs): {error}",
                    lock.display()
                )
            })?;
        info!("locked {}", lock.display());
        Ok(DataDir {
            path: path.to_owned(),
            lock,
        })
    }
}

impl Resource for DataDir {
    fn close(self) -> Result<(), Error> {
        std::fs::remove_file(&self.lock)?;
        info!("unlocked {}", self.lock.display());
        Ok(())
    }
}

/// The SQLite connection. `rusqlite::Connection` is `Send` but not `Sync`: the mutex makes
/// it shareable by the request handlers.
pub struct Database {
    connection: Mutex<Connection>,
}

impl Database {
    fn open(dir: &DataDir) -> Result<Database, Error> {
        let connection = Connection::open(dir.path.join("notes.sqlite")).map_err(Error::other)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS notes (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     body TEXT NOT NULL
                 );",
            )
            .map_err(Error::other)?;
        Ok(Database {
            connection: Mutex::new(connection),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&connection).map_err(Error::other)
    }
}

impl Resource for Database {
    fn close(self) -> Result<(), Error> {
        let connection = self
            .connection
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        connection
            .close()
            .map_err(|(_, error)| Error::other(error))?;
        info!("closed the database");
        Ok(())
    }
}

mk_system! {
    /// The data directory and the database in it: opened in this order, closed in reverse,
    /// and if the database fails to open, the directory's lock is released again.
    pub struct Store(dir: &Path) {
        pub data: DataDir = DataDir::acquire(dir)?,
        pub db: Database = Database::open(&data)?,
    }
}

#[defstate(name = "notes/store", stop = |store| store.close())]
static STORE: Store = {
    let store = Store::start(&CONFIG.get().dir)?;
    let generation = STORE_STARTS.fetch_add(1, Ordering::Relaxed) + 1;
    info!("opened the database (start {generation})");
    store
};

/// The HTTP server, started asynchronously.
#[defstate(name = "notes/server", stop = |server| server.stop())]
static SERVER: Server = async { Server::start().await? };

/// A server accepting connections on its own task.
pub struct Server {
    port: u16,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// The runtime the server runs on: its stop may be polled from a thread outside it (the
    /// teardown after a signal, a sync restart), so the timed part of the stop runs there.
    runtime: tokio::runtime::Handle,
}

impl Server {
    async fn start() -> Result<Server, Error> {
        let (host, port) = {
            let config = CONFIG.get();
            (config.host.clone(), config.port)
        };
        STORE.try_get()?; // the handlers use it: started (and recorded) before the server
        let generation = SERVER_STARTS.fetch_add(1, Ordering::Relaxed) + 1;
        info!("Starting server on port: {port} (start {generation})");
        let listener = TcpListener::bind((host.as_str(), port)).await?;
        let app = Router::new()
            .route("/", get(|| async { "Notes API\n" }))
            .route("/notes", get(list_notes).post(add_note))
            .route("/notes/{id}", get(get_note))
            .route("/stats", get(stats))
            .route("/healthz", get(|| async { support::health::healthz() }))
            .route(
                "/readyz",
                get(|| async {
                    support::health::readyz(&["notes/config", "notes/store", "notes/server"])
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

type Answer = (StatusCode, String);

fn failed(error: &Error) -> Answer {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))
}

/// Runs `f` on the database. Handlers are sync inside (no `.await` while a guard is held).
fn with_db<T>(f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Answer> {
    let store = STORE.try_get().map_err(|error| failed(&error))?;
    store.db.with(f).map_err(|error| failed(&error))
}

async fn add_note(body: String) -> Answer {
    let body = body.trim();
    if body.is_empty() {
        return (StatusCode::BAD_REQUEST, "an empty note\n".to_owned());
    }
    match with_db(|db| {
        db.execute("INSERT INTO notes (body) VALUES (?1)", [body])?;
        Ok(db.last_insert_rowid())
    }) {
        Ok(id) => (StatusCode::CREATED, format!("{id}\n")),
        Err(answer) => answer,
    }
}

async fn list_notes() -> Answer {
    let notes = with_db(|db| {
        let mut query = db.prepare("SELECT id, body FROM notes ORDER BY id")?;
        let rows = query.query_map([], |row| {
            Ok(format!(
                "{}\t{}\n",
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?
            ))
        })?;
        rows.collect::<rusqlite::Result<String>>()
    });
    match notes {
        Ok(notes) => (StatusCode::OK, notes),
        Err(answer) => answer,
    }
}

async fn get_note(UrlPath(id): UrlPath<i64>) -> Answer {
    let note = with_db(|db| {
        db.query_row("SELECT body FROM notes WHERE id = ?1", [id], |row| {
            row.get::<_, String>(0)
        })
        .optional()
    });
    match note {
        Ok(Some(body)) => (StatusCode::OK, format!("{body}\n")),
        Ok(None) => (StatusCode::NOT_FOUND, format!("no note {id}\n")),
        Err(answer) => answer,
    }
}

async fn stats() -> Answer {
    match with_db(|db| db.query_row("SELECT COUNT(*) FROM notes", [], |row| row.get::<_, i64>(0))) {
        Ok(count) => (
            StatusCode::OK,
            format!(
                "store starts: {}\nserver starts: {}\nnotes: {count}\n",
                STORE_STARTS.load(Ordering::Relaxed),
                SERVER_STARTS.load(Ordering::Relaxed),
            ),
        ),
        Err(answer) => answer,
    }
}

struct Notes;

impl console::App for Notes {
    fn describe(&self) -> String {
        match SERVER.peek() {
            Some(server) => format!("server: running on port {}", server.port),
            None => "server: stopped".to_owned(),
        }
    }

    async fn start(&self) -> Result<String, Error> {
        if let Some(server) = SERVER.peek() {
            return Ok(format!("server already running on port {}", server.port));
        }
        let port = SERVER.try_get().await?.port;
        Ok(format!("server running on port {port}"))
    }

    fn server_names(&self) -> &[&str] {
        &["notes/server", "server"]
    }

    async fn stop_server(&self) -> Result<String, Error> {
        Ok(match SERVER.peek().map(|server| server.port) {
            Some(port) => {
                SERVER.stop().await?;
                format!("server on port {port} stopped")
            }
            None => "no server running".to_owned(),
        })
    }

    async fn restart_server(&self) -> Result<String, Error> {
        SERVER.restart().await?;
        Ok("restarted notes/server".to_owned())
    }

    async fn restart_state(&self, name: &str) -> Result<String, Error> {
        let (name, restart): (&str, fn() -> Result<(), Error>) = match name {
            "notes/server" | "server" => return self.restart_server().await,
            "notes/store" | "store" => ("notes/store", || STORE.restart()),
            "notes/config" | "config" => ("notes/config", || CONFIG.restart()),
            other => return Err(format!("no state named `{other}` to restart").into()),
        };
        let was_serving = SERVER.is_realized();
        // A sync restart stops what depends on the state first (the server, and for the
        // config the store) and may wait for their guards: off the async threads.
        tokio::task::spawn_blocking(restart)
            .await
            .map_err(Error::other)??;
        if was_serving && !SERVER.is_realized() {
            SERVER.try_get().await?;
            return Ok(format!("restarted {name} and notes/server"));
        }
        Ok(format!("restarted {name}"))
    }
}

#[lifecycle::main]
#[tokio::main]
async fn main() -> Result<(), Error> {
    support::init_logging();
    let port = SERVER.try_get().await?.port;
    println!(
        "notes: serving on port {port}, data in {}",
        CONFIG.get().dir.display()
    );
    match console::run(&Notes).await {
        Ended::Quit => Ok(()),
        Ended::EndOfInput => {
            info!("end of input: the console is closed; serving until SIGINT or SIGTERM");
            std::future::pending().await
        }
    }
}
