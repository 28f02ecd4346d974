//! End to end: `examples/webapp.rs` as a subprocess on a free port — HTTP over 127.0.0.1,
//! the console through stdin, real SIGTERM/SIGINT, output order and exit status.

mod e2e;
#[path = "common/ready.rs"]
mod ready;

use e2e::{free_port, get, port_is_free, request, Example, Options};
use ready::ready_soon;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

fn webapp(args: Vec<String>, env: Vec<(&str, String)>, console: bool) -> Example {
    Example::start(
        "webapp",
        Options {
            args,
            env,
            console,
            separate_streams: false,
        },
    )
}

/// The webapp on a free port with its console, once its server runs.
fn serving_with_console() -> (u16, Example) {
    let port = free_port();
    let mut app = webapp(vec![port.to_string()], vec![], true);
    app.wait_for(&format!("server running on port {port}"));
    (port, app)
}

/// The teardown in reverse realization order: the server (gracefully), then what it read.
const TEARDOWN: [&str; 7] = [
    "stopping webapp/server",
    "Application server shutting down...",
    "stopped webapp/server",
    "stopping webapp/hits",
    "stopped webapp/hits",
    "stopping webapp/config",
    "stopped webapp/config",
];

fn assert_serves(port: u16) {
    let root = get(port, "/");
    assert_eq!(
        (root.status, root.body.as_str()),
        (200, "App Server Running")
    );
}

fn signal_test(signal: i32) {
    let port = free_port();
    let mut app = webapp(vec![port.to_string()], vec![], false);
    app.wait_for(&format!("Starting server on port: {port}"));
    app.wait_for(&format!("server running on port {port}"));
    // No console input at all: the console closes, the server keeps serving.
    app.wait_for("end of input: the console is closed");
    assert_serves(port);
    assert_serves(port);

    let health = get(port, "/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.body.trim(),
        r#"{"status":"ok","states":["webapp/config","webapp/hits","webapp/server"]}"#
    );
    let ready = get(port, "/readyz");
    assert_eq!(
        (ready.status, ready.body.trim()),
        (200, r#"{"ready":true,"missing":[]}"#)
    );

    app.signal(signal);
    let (status, took) = app.wait_exit();
    assert_eq!(
        status.signal(),
        Some(signal),
        "ends by the signal: {status:?}"
    );
    // The design target is well under a second (100 ms grace); the bound is generous for a
    // loaded machine.
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    app.assert_in_order(&TEARDOWN);
    assert!(app.count("served 2 requests") == 1, "{:#?}", app.output);
    assert!(port_is_free(port));
}

#[test]
fn sigterm_stops_everything_in_reverse_order_and_ends_by_the_signal() {
    signal_test(libc::SIGTERM);
}

#[test]
fn sigint_does_the_same() {
    signal_test(libc::SIGINT);
}

#[test]
fn the_port_comes_from_the_first_argument_else_from_port() {
    let (from_env, from_arg) = (free_port(), free_port());
    let mut app = webapp(vec![], vec![("PORT", from_env.to_string())], false);
    app.wait_for(&format!("server running on port {from_env}"));
    assert_serves(from_env);
    app.signal(libc::SIGTERM);
    app.wait_exit();

    let mut app = webapp(
        vec![from_arg.to_string()],
        vec![("PORT", from_env.to_string())],
        false,
    );
    app.wait_for(&format!("server running on port {from_arg}"));
    assert_serves(from_arg);
    assert!(
        port_is_free(from_env),
        "$PORT is not used when an argument is given"
    );
    app.signal(libc::SIGTERM);
    app.wait_exit();
}

#[test]
fn a_bad_port_is_an_error_and_a_failing_exit() {
    let mut app = webapp(vec!["eighty".to_owned()], vec![], false);
    let (status, _) = app.wait_exit();
    assert_eq!(status.code(), Some(1), "{:#?}", app.output);
    app.assert_in_order(&["not a port number"]);
}

#[test]
fn the_console_drives_the_restart_pattern() {
    let (port, mut app) = serving_with_console();
    app.wait_for("console: type `help` for commands");

    // Starting twice never binds twice.
    app.send("start");
    app.wait_for(&format!("server already running on port {port}"));
    assert_eq!(app.count("Starting server on port"), 1);
    assert_serves(port);

    // `stop` stops every state, newest first; the port is free the moment it is reported.
    app.send("stop");
    app.wait_for("stopped webapp/server, webapp/hits, webapp/config");
    assert!(port_is_free(port), "the port is still taken after stop");
    assert!(request(port, "GET", "/", "").is_err(), "nothing answers");
    app.send("status");
    app.wait_for("no active states");
    app.wait_for("server: stopped");

    // Restart when stopped starts.
    app.send("restart");
    app.wait_for(&format!("server running on port {port}"));
    assert_serves(port);
    app.send("status");
    app.wait_for("active states, oldest first:");
    app.wait_for("1. webapp/config");
    app.wait_for("2. webapp/hits");
    app.wait_for("3. webapp/server");
    app.wait_for(&format!("server: running on port {port}"));

    // Restart of the server alone: the states it read stay.
    app.send("restart");
    app.wait_for("stopped webapp/server");
    app.wait_for(&format!("server running on port {port}"));
    assert_serves(port);

    // `stop server` is `app_server_stop()`: the server alone, gracefully; the port is free
    // when it answers; the states it read stay. Starting again binds again.
    app.send("stop server");
    app.wait_for(&format!("server on port {port} stopped"));
    assert!(
        port_is_free(port),
        "the port is still taken after app_server_stop"
    );
    app.send("stop server");
    app.wait_for("no server running");
    app.send("status");
    app.wait_for("2. webapp/hits");
    app.wait_for("server: stopped");
    app.send("start");
    app.wait_for(&format!("server running on port {port}"));
    assert_serves(port);
    app.send("stop nothing/here");
    app.wait_for("no active state named `nothing/here`");

    // Restart of a state restarts what depends on it.
    app.send("restart webapp/config");
    app.wait_for("restarted webapp/config and webapp/server");
    assert_serves(port);

    app.send("graph");
    app.wait_for("digraph lifecycle {");
    app.wait_for(r#""webapp/server" -> "webapp/config";"#);
    app.wait_for("}");

    // Mistakes get help, not a crash.
    app.send("bogus command");
    app.wait_for("unknown command `bogus`");
    app.wait_for("commands:");
    app.send("restart nothing/here");
    app.wait_for("error: no state named `nothing/here` to restart");
    app.send("help");
    app.wait_for("restart [name]");
    assert_serves(port);

    app.send("quit");
    let (status, _) = app.wait_exit();
    assert_eq!(status.code(), Some(0), "{:#?}", app.output);
    assert!(port_is_free(port));
    // `quit` stopped every state, newest first: config was realized again (after hits) by
    // its restart above.
    app.wait_for("stopped webapp/server, webapp/config, webapp/hits");
}

#[test]
fn end_of_console_input_keeps_the_server_running() {
    let (port, mut app) = serving_with_console();
    app.send("status");
    app.wait_for("3. webapp/server");
    app.close_console();
    app.wait_for("end of input: the console is closed; serving until SIGINT or SIGTERM");
    assert_serves(port);
    app.drain_for(Duration::from_millis(200));
    assert_eq!(app.count("stopping"), 0, "nothing stopped at end of input");
    app.signal(libc::SIGTERM);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    app.assert_in_order(&TEARDOWN);
}

#[test]
fn console_replies_go_to_stdout_and_logs_to_stderr() {
    let port = free_port();
    let mut app = Example::start(
        "webapp",
        Options {
            args: vec![port.to_string()],
            env: vec![],
            console: true,
            separate_streams: true,
        },
    );
    let reply = app.wait_for(&format!("server running on port {port}"));
    assert!(!reply.starts_with("stderr: "), "a reply on stderr: {reply}");
    app.send("restart");
    app.wait_for(&format!("server running on port {port}"));
    app.send("quit");
    let (status, _) = app.wait_exit();
    assert_eq!(status.code(), Some(0), "{:#?}", app.output);
    for log in [
        "Starting server on port",
        "stopping webapp/server",
        "stopped webapp/hits",
    ] {
        let line = &app.output[app.position(log)];
        assert!(line.starts_with("stderr: "), "a log line on stdout: {line}");
    }
    for reply in [
        "console: type `help`",
        "restarted webapp/server",
        "stopped webapp/server, ",
    ] {
        let line = &app.output[app.position(reply)];
        assert!(!line.starts_with("stderr: "), "a reply on stderr: {line}");
    }
}

#[test]
fn sighup_rereads_the_config_file_and_moves_the_server_keeping_the_hit_count() {
    let (first, second) = (free_port(), free_port());
    let file = std::env::temp_dir().join(format!("webapp-reload-{first}.conf"));
    std::fs::write(&file, format!("port = {first}\n")).unwrap();
    let env = vec![("WEBAPP_CONFIG", file.to_string_lossy().into_owned())];
    let mut app = webapp(vec![], env, false);
    app.wait_for(&format!("server running on port {first}"));
    assert_serves(first);
    assert_serves(first);

    std::fs::write(&file, format!("port = {second}\n")).unwrap();
    app.signal(libc::SIGHUP);
    app.wait_for("reloaded webapp/config (restarted webapp/server)");
    assert_serves(second);
    assert!(port_is_free(first), "the old port is released");

    // A broken file: the reload fails, the server keeps serving where it was.
    std::fs::write(&file, "port = not-a-port\n").unwrap();
    app.signal(libc::SIGHUP);
    app.wait_for("failed webapp/config");
    assert_serves(second);

    app.signal(libc::SIGTERM);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert_eq!(app.count("Starting server on port"), 2, "{:#?}", app.output);
    // The counter was not restarted: the requests on both ports add up.
    assert_eq!(app.count("served 4 requests"), 1, "{:#?}", app.output);
    let _ = std::fs::remove_file(&file);
}

/// The supervised server: `POST /crash` (enabled by `LIFECYCLE_CRASH_ROUTE=1`) makes its task
/// die; the supervisor restarts it on the same port, the console's `health` counts the
/// restart and names the error, and the server answers again, ready.
#[test]
fn a_crashed_server_task_comes_back_supervised() {
    let port = free_port();
    let mut app = webapp(
        vec![port.to_string()],
        vec![("LIFECYCLE_CRASH_ROUTE", "1".to_owned())],
        true,
    );
    app.wait_for(&format!("server running on port {port}"));
    assert_serves(port);

    let crash = request(port, "POST", "/crash", "").expect("POST /crash");
    assert_eq!(
        (crash.status, crash.body.as_str()),
        (200, "crashing the server task\n")
    );
    app.wait_for("failed: the server on port");
    app.wait_for("restarting state=webapp/server attempt=1");
    app.wait_for("Application server shutting down...");
    app.wait_for("stopped webapp/server");
    app.wait_for(&format!("Starting server on port: {port}"));
    app.wait_for("started webapp/server");
    assert_eq!(
        app.count("failed to stop"),
        0,
        "the restart's stop succeeds"
    );

    assert_serves(port);
    // Ready once the supervisor has recorded the restart (a moment after the new server
    // answers).
    assert_eq!(ready_soon(port), r#"{"ready":true,"missing":[]}"#);
    app.send("health");
    let line = app.wait_for("webapp/server realized");
    assert!(line.contains(", 1 restarts"), "one restart counted: {line}");
    assert!(
        line.contains(&format!(
            "last error: the server on port {port} failed: crashed on POST /crash"
        )),
        "the error named: {line}"
    );

    // A second crash: it comes back again, counting two.
    request(port, "POST", "/crash", "").expect("POST /crash again");
    app.wait_for("restarting state=webapp/server attempt=");
    app.wait_for("started webapp/server");
    assert_serves(port);
    app.send("health");
    let line = app.wait_for("webapp/server realized");
    assert!(
        line.contains(", 2 restarts"),
        "two restarts counted: {line}"
    );

    app.signal(libc::SIGTERM);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}

#[test]
fn without_the_knob_there_is_no_crash_route() {
    let (port, mut app) = serving_with_console();
    let crash = request(port, "POST", "/crash", "").expect("POST /crash");
    assert_eq!(crash.status, 404, "{crash:?}");
    assert_serves(port);
    app.signal(libc::SIGTERM);
    let (status, _) = app.wait_exit();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}
