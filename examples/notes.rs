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
//! | `GET /healthz`, `GET /readyz` | from `lifecycle::health()` |
//! | `POST /crash` | only with `LIFECYCLE_CRASH_ROUTE=1`: the server's task dies, and the supervisor restarts it |
//! | `GET /lifecycle` | the live admin page ([`lifecycle::admin`]); its address and token are printed at start |
//!
//! # The pieces
//!
//! * `CONFIG` — `#[defstate]`: port, host, data directory.
//! * `STORE` — `#[defstate]` over a `mk_system!` system of two resources: the data directory
//!   with its lock file (one process per directory) and the SQLite connection. If opening the
//!   database fails, the lock is released again (the system's rollback); stopping the state
//!   closes the connection, then releases the lock.
//! * `SERVER` — `#[defstate]` with an `async` initializer: an axum server
//!   ([`lifecycle::server::Running`]) whose start reads `CONFIG` and `STORE`, so `graph` shows
//!   both edges and restarting the store stops the server first — and the console starts it
//!   again. It is supervised (`supervise(...)`): when its task dies — `POST /crash` with
//!   `LIFECYCLE_CRASH_ROUTE=1` — it comes back on its port after a backoff (`/readyz` is 503
//!   meanwhile), and `GET /stats` counts one more server start; the notes stay.
//!
//! The console ([`lifecycle::console`]: `status`, `start`, `stop [name]`, `restart [name]`,
//! `graph`, `help`, `quit`; names may be short, `restart store`) and the signals behave as in
//! the webapp example.

#[path = "support/mod.rs"]
mod support;

use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use lifecycle::console::{Console, Ended};
use lifecycle::prelude::*;
use lifecycle::server::Running;
use lifecycle::Error;
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::net::TcpListener;
use tracing::info;

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
    fn from_env() -> Result<Config, Error> {
        let dir = std::env::args()
            .nth(2)
            .or_else(|| std::env::var("NOTES_DIR").ok())
            .map_or_else(
                || std::env::temp_dir().join("lifecycle-notes"),
                PathBuf::from,
            );
        Ok(Config {
            host: std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned()),
            port: lifecycle::server::port(8888)?,
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

/// The HTTP server, started asynchronously: a [`Running`] server, stopped gracefully (100 ms
/// for open requests) by its state's stop, which returns when the port is free. Supervised:
/// when its task ends without a stop (`POST /crash` with `LIFECYCLE_CRASH_ROUTE=1`), it
/// comes back on the same port after a backoff.
#[defstate(
    name = "notes/server",
    stop = |server| server.stop(),
    supervise(backoff = "100ms..2s", max_restarts = 5, within = "60s")
)]
static SERVER: Running = async {
    let (host, port) = {
        let config = CONFIG.get();
        (config.host.clone(), config.port)
    };
    STORE.try_get()?; // the handlers use it: started (and recorded) before the server
    let generation = SERVER_STARTS.fetch_add(1, Ordering::Relaxed) + 1;
    info!("Starting server on port: {port} (start {generation})");
    let listener = TcpListener::bind((host.as_str(), port)).await?;
    Running::spawn_supervised(port, SERVER.fail_handle(), |shutdown| {
        support::crash::crashable(app(), |app| {
            axum::serve(listener, app).with_graceful_shutdown(shutdown)
        })
    })?
};

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "Notes API\n" }))
        .route("/notes", get(list_notes).post(add_note))
        .route("/notes/{id}", get(get_note))
        .route("/stats", get(stats))
        .merge(support::health::routes(&[
            "notes/config",
            "notes/store",
            "notes/server",
        ]))
        .nest(
            "/lifecycle",
            lifecycle::admin::router(support::admin::admin()),
        )
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

#[lifecycle::main]
#[tokio::main]
async fn main() -> Result<(), Error> {
    support::init_logging();
    let port = SERVER.try_get().await?.port();
    println!(
        "notes: serving on port {port}, data in {}",
        CONFIG.get().dir.display()
    );
    support::admin::print_url(&CONFIG.get().host, port);
    let console = Console::new().state(&CONFIG).state(&STORE).main(&SERVER);
    if console.run_async().await == Ended::EndOfInput {
        info!("end of input: the console is closed; serving until SIGINT or SIGTERM");
        std::future::pending::<()>().await;
    }
    Ok(())
}
