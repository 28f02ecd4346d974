//! End to end: `examples/notes.rs` — config, a `mk_system!` store (lock file + SQLite) and an
//! async server as states. Restarting the server keeps the database; restarting the store
//! restarts the server; notes survive both and a new process; a second process on the same
//! directory is refused; a database that cannot open releases the lock again (rollback).

mod e2e;
#[path = "common/ready.rs"]
mod ready;

use e2e::{free_port, get, port_is_free, request, Example, Options};
use ready::ready_soon;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

/// A fresh data directory, removed when dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn new(test: &str) -> DataDir {
        let path = std::env::temp_dir().join(format!(
            "lifecycle-notes-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |t| t.as_nanos())
        ));
        std::fs::create_dir_all(&path).unwrap();
        DataDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn notes(args: Vec<String>, env: Vec<(&str, String)>, console: bool) -> Example {
    Example::start(
        "notes",
        Options {
            args,
            env,
            console,
            separate_streams: false,
        },
    )
}

/// The notes server on a free port with its data in `dir`, once it serves.
fn serving(dir: &DataDir, env: Vec<(&str, String)>, console: bool) -> (u16, Example) {
    let port = free_port();
    let mut app = notes(vec![port.to_string(), dir.arg()], env, console);
    app.wait_for(&format!("notes: serving on port {port}"));
    (port, app)
}

/// `quit` on the console: the program stops everything and exits with 0.
fn quit(app: &mut Example) {
    app.send("quit");
    let (status, _) = app.wait_exit();
    assert_eq!(status.code(), Some(0), "{:#?}", app.output);
}

/// The server stops (gracefully), then the store: the database closes, then the lock goes.
const SERVER_THEN_STORE_STOP: [&str; 7] = [
    "stopping notes/server",
    "Application server shutting down...",
    "stopped notes/server",
    "stopping notes/store",
    "closed the database",
    "unlocked",
    "stopped notes/store",
];

fn post(port: u16, text: &str) -> String {
    let response = request(port, "POST", "/notes", text).expect("POST /notes");
    assert_eq!(response.status, 201, "{response:?}");
    response.body.trim().to_owned()
}

fn stats(port: u16) -> String {
    let response = get(port, "/stats");
    assert_eq!(response.status, 200, "{response:?}");
    response.body
}

#[test]
fn notes_survive_restarts_of_the_server_the_store_and_the_process() {
    let dir = DataDir::new("survive");
    let (port, mut app) = serving(&dir, vec![], true);
    app.wait_for("console: type `help` for commands");
    assert!(dir.path().join("notes.lock").exists());

    assert_eq!(post(port, "buy milk"), "1");
    assert_eq!(post(port, "call mom"), "2");
    assert_eq!(get(port, "/notes").body, "1\tbuy milk\n2\tcall mom\n");
    assert_eq!(get(port, "/notes/2").body, "call mom\n");
    assert_eq!(stats(port), "store starts: 1\nserver starts: 1\nnotes: 2\n");

    // The server alone: the database stays open (one store start).
    app.send("restart");
    app.wait_for("restarted notes/server");
    assert_eq!(stats(port), "store starts: 1\nserver starts: 2\nnotes: 2\n");

    // The store: the server (which depends on it) stops first and comes back after.
    app.send("restart notes/store");
    app.wait_for("restarted notes/store and notes/server");
    assert_eq!(stats(port), "store starts: 2\nserver starts: 3\nnotes: 2\n");
    assert_eq!(get(port, "/notes").body, "1\tbuy milk\n2\tcall mom\n");
    app.assert_in_order(
        &[
            &["restarted notes/server"][..],
            &SERVER_THEN_STORE_STOP,
            &[
                "locked",
                "started notes/store",
                "Starting server on port",
                "started notes/server",
                "restarted notes/store and notes/server",
            ],
        ]
        .concat(),
    );

    app.send("graph");
    app.wait_for(r#""notes/store" -> "notes/config";"#);
    app.send("status");
    app.wait_for("1. notes/config");
    app.wait_for("2. notes/store");
    app.wait_for("3. notes/server");

    quit(&mut app);
    app.wait_for("stopped notes/server, notes/store, notes/config");
    assert!(
        !dir.path().join("notes.lock").exists(),
        "the lock is released"
    );
    assert!(port_is_free(port));

    // A new process on the same directory (from the environment this time) has the notes.
    let port = free_port();
    let mut app = notes(
        vec![],
        vec![("PORT", port.to_string()), ("NOTES_DIR", dir.arg())],
        false,
    );
    app.wait_for(&format!("notes: serving on port {port}"));
    assert_eq!(get(port, "/notes").body, "1\tbuy milk\n2\tcall mom\n");
    assert_eq!(post(port, "water plants"), "3");
    app.signal(libc::SIGTERM);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    app.assert_in_order(
        &[
            &SERVER_THEN_STORE_STOP[..],
            &["stopping notes/config", "stopped notes/config"],
        ]
        .concat(),
    );
    assert!(!dir.path().join("notes.lock").exists());
}

#[test]
fn requests_that_fail_get_the_right_status() {
    let dir = DataDir::new("status");
    let (port, mut app) = serving(&dir, vec![], false);
    assert_eq!(get(port, "/notes/41").status, 404);
    assert_eq!(request(port, "POST", "/notes", "  ").unwrap().status, 400);
    assert_eq!(get(port, "/notes").body, "");
    let ready = get(port, "/readyz");
    assert_eq!(
        (ready.status, ready.body.trim()),
        (200, r#"{"ready":true,"missing":[]}"#)
    );
    app.signal(libc::SIGINT);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGINT));
}

#[test]
fn a_second_process_on_the_same_directory_is_refused() {
    let dir = DataDir::new("locked");
    let (port, mut first) = serving(&dir, vec![], false);

    let mut second = notes(vec![free_port().to_string(), dir.arg()], vec![], false);
    let (status, _) = second.wait_exit();
    assert_eq!(status.code(), Some(1), "{:#?}", second.output);
    second.assert_in_order(&["notes.lock is in use"]);

    // The first one is unaffected, and its lock is still there.
    assert_eq!(post(port, "still here"), "1");
    assert!(dir.path().join("notes.lock").exists());
    first.signal(libc::SIGTERM);
    first.wait_exit();
    assert!(!dir.path().join("notes.lock").exists());
}

#[test]
fn a_database_that_cannot_open_rolls_the_lock_back() {
    let dir = DataDir::new("rollback");
    // A directory where the database file should be: SQLite cannot open it.
    std::fs::create_dir_all(dir.path().join("notes.sqlite")).unwrap();
    let mut app = notes(vec![free_port().to_string(), dir.arg()], vec![], false);
    let (status, _) = app.wait_exit();
    assert_eq!(status.code(), Some(1), "{:#?}", app.output);
    // The store's system took the lock, then failed to open the database, and released the
    // lock again before the error reached `main`.
    app.assert_in_order(&["locked", "unlocked", "Store.db"]);
    assert!(
        !dir.path().join("notes.lock").exists(),
        "the rollback released the lock"
    );
}

/// The supervised server: `POST /crash` (with `LIFECYCLE_CRASH_ROUTE=1`) kills its task; the
/// supervisor restarts the server alone (the store stays open) on the same port, and the
/// notes are still there.
#[test]
fn a_crashed_server_task_comes_back_supervised_and_the_store_stays() {
    let dir = DataDir::new("crash");
    let (port, mut app) = serving(&dir, vec![("LIFECYCLE_CRASH_ROUTE", "1".to_owned())], true);
    assert_eq!(post(port, "buy milk"), "1");

    let crash = request(port, "POST", "/crash", "").expect("POST /crash");
    assert_eq!(crash.status, 200, "{crash:?}");
    app.wait_for("failed: the server on port");
    app.wait_for("restarting state=notes/server attempt=1");
    app.wait_for("stopped notes/server");
    app.wait_for(&format!("Starting server on port: {port} (start 2)"));
    app.wait_for("started notes/server");
    assert_eq!(
        app.count("failed to stop"),
        0,
        "the restart's stop succeeds"
    );

    assert_eq!(stats(port), "store starts: 1\nserver starts: 2\nnotes: 1\n");
    assert_eq!(get(port, "/notes").body, "1\tbuy milk\n");
    // Ready once the supervisor has recorded the restart (a moment after the new server
    // answers).
    assert_eq!(ready_soon(port), r#"{"ready":true,"missing":[]}"#);
    app.send("health");
    let line = app.wait_for("notes/server realized");
    assert!(line.contains(", 1 restarts"), "one restart counted: {line}");

    quit(&mut app);
}
