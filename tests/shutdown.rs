//! Process-level teardown: this test binary starts itself as a child per scenario, with
//! `LIFECYCLE_SHUTDOWN_CHILD=<scenario>`, and checks the child's output (what was stopped,
//! in what order) and how it ended. Signals are real (`kill`), sent once the child says
//! `ready`.
//!
//! Exit-status semantics checked here (see `#[lifecycle::main]`):
//! * `main` returns `Ok` → 0; returns `Err` → 1 (and `Error: ...` on stderr); panics → 101;
//!   returns `Ok` but the teardown fails → 1.
//! * `process::exit(3)` → 3, after the `atexit` teardown.
//! * SIGTERM / SIGINT → the teardown, then death by that same signal (a shell shows 143 /
//!   130). A second signal during a stuck teardown ends the child at once, by the signal.
//!
//! Run with `cargo test --test shutdown [filter]`. (`harness = false`: this file has its own
//! `main`.)

use lifecycle::prelude::*;
use lifecycle::{close_on_shutdown, Error, State};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const CHILD: &str = "LIFECYCLE_SHUTDOWN_CHILD";

// ---------------------------------------------------------------------------------------
// The child side.
// ---------------------------------------------------------------------------------------

/// A resource that prints when it closes.
pub struct Named(&'static str);

impl Resource for Named {
    fn close(self) -> Result<(), Error> {
        println!("close {}", self.0);
        Ok(())
    }
}

mk_system! {
    pub struct Sys {
        pub first: Named = Named("sys.first"),
        pub second: Named = Named("sys.second"),
    }
}

defresource!(SLOT: Named);

/// A state that lives for the whole process (as a `#[defstate]` static would) and prints
/// when it stops.
fn state(name: &'static str) -> &'static State<()> {
    let state = Box::leak(Box::new(
        State::new(name, || Ok(())).with_stop(move |()| println!("stop {name}")),
    ));
    state.get();
    state
}

/// A static state, as most programs declare them.
#[defstate(stop = |()| println!("stop a"), name = "a")]
static A: () = ();

/// States, resources, a place and a system, realized in this order:
/// a, r1, slot, b, sys, c.
fn setup() {
    A.get();
    close_on_shutdown(closeable("r1", |name| println!("close {name}")));
    SLOT.define(|| Ok::<_, Error>(Named("slot"))).unwrap();
    state("b");
    close_on_shutdown(Sys::start().unwrap());
    state("c");
}

/// The teardown of `setup`: everything, newest first.
const TEARDOWN: &[&str] = &[
    "stop c",
    "close sys.second",
    "close sys.first",
    "stop b",
    "close slot",
    "close r1",
    "stop a",
];

fn ready_and_wait() -> ! {
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[lifecycle::main]
fn child_main() -> Result<(), Error> {
    let scenario = std::env::var(CHILD).unwrap_or_default();
    setup();
    match scenario.as_str() {
        "return-ok" => println!("main done"),
        "return-err" => return Err("failed on purpose".into()),
        "start-err" => {
            // A start error with a source, as a server whose port is taken fails.
            let server = Box::leak(Box::new(State::<()>::new("webapp/server", || {
                Err(std::io::Error::from_raw_os_error(libc::EADDRINUSE))?
            })));
            server.try_get()?;
        }
        "panic" => panic!("main panicked on purpose"),
        "exit" => std::process::exit(3),
        "exit-holding-a-guard" => {
            let slot = SLOT.get();
            println!(
                "holding {}",
                slot.as_ref().map_or("nothing", |named| named.0)
            );
            std::process::exit(4);
        }
        "teardown-fails" => {
            let failing = Box::leak(Box::new(
                State::new("failing", || Ok(())).with_stop(|()| Err::<(), _>("cannot stop")),
            ));
            failing.get();
        }
        "signal" => ready_and_wait(),
        "stuck" => {
            let stuck = Box::leak(Box::new(State::new("stuck", || Ok(())).with_stop(|()| {
                println!("stopping stuck");
                std::thread::sleep(Duration::from_secs(30));
                println!("stuck stopped");
            })));
            stuck.get();
            ready_and_wait();
        }
        other => panic!("unknown scenario {other:?}"),
    }
    Ok(())
}

/// Without `#[lifecycle::main]`: a raw handler installed before lifecycle's and a
/// signal-hook handler after it must both still run (chaining).
fn child_chained() -> ExitCode {
    static BEFORE: AtomicBool = AtomicBool::new(false);
    extern "C" fn before(_: libc::c_int) {
        BEFORE.store(true, Ordering::SeqCst);
    }
    // SAFETY: `before` only stores to an atomic, which is async-signal-safe; the sigaction
    // struct is zeroed (valid) and its handler set before use.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = before as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut()),
            0
        );
    }
    lifecycle::install_shutdown().unwrap();
    let after = std::sync::Arc::new(AtomicBool::new(false));
    signal_hook_flag(libc::SIGTERM, &after);
    let flags = Box::leak(Box::new(State::new("flags", || Ok(())).with_stop(
        move |()| {
            // The teardown thread runs after every handler of the signal has returned.
            println!(
                "before: {}, after: {}",
                BEFORE.load(Ordering::SeqCst),
                after.load(Ordering::SeqCst)
            );
        },
    )));
    flags.get();
    ready_and_wait()
}

/// A handler registered after lifecycle's, the way another library would: a raw
/// `sigaction` that chains to what was there (lifecycle's signal-hook handler).
fn signal_hook_flag(signal: libc::c_int, flag: &std::sync::Arc<AtomicBool>) {
    use std::sync::OnceLock;
    type Action = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
    static FLAG: OnceLock<std::sync::Arc<AtomicBool>> = OnceLock::new();
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
    extern "C" fn handler(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        data: *mut libc::c_void,
    ) {
        if let Some(flag) = FLAG.get() {
            flag.store(true, Ordering::SeqCst);
        }
        let Some(previous) = PREVIOUS.get() else {
            return;
        };
        if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
            return;
        }
        // SAFETY: the previous action is a real handler (not DFL/IGN), installed by
        // signal-hook with SA_SIGINFO, so it has this signature; it gets this signal's own
        // siginfo and context.
        unsafe {
            if previous.sa_flags & libc::SA_SIGINFO != 0 {
                let call: Action = std::mem::transmute(previous.sa_sigaction);
                call(signal, info, data);
            } else {
                let call: extern "C" fn(libc::c_int) = std::mem::transmute(previous.sa_sigaction);
                call(signal);
            }
        }
    }
    FLAG.set(std::sync::Arc::clone(flag)).unwrap();
    // SAFETY: plain sigaction calls with zeroed (valid) structs; the old action is stored
    // before the new handler is installed, and the handler only reads it.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut old), 0);
        PREVIOUS.set(old).unwrap();
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as Action as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

/// Without `#[lifecycle::main]`: `close_on_shutdown` alone closes at the normal end of
/// `main`, through the exit backstop.
fn child_plain_exit() -> ExitCode {
    close_on_shutdown(closeable("r1", |name| println!("close {name}")));
    close_on_shutdown(closeable("r2", |name| println!("close {name}")));
    println!("main done");
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------
// The parent side.
// ---------------------------------------------------------------------------------------

struct Run {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Run {
    fn start(scenario: &str) -> Run {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, scenario)
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Run {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// Waits for the child to print `line`.
    fn wait_for(&mut self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(got) => {
                    let done = got == line;
                    self.stdout.push(got);
                    if done {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "the child never printed {line:?}; it printed {:?}",
                        self.stdout
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the child ended before printing {line:?}: {:?}",
                        self.stdout
                    )
                }
            }
        }
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our live child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits (at most 20 s) for the child to end; returns its status, stdout and stderr.
    fn finish(mut self) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the child did not end; it printed {:?}", self.stdout);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.stdout.extend(self.lines.iter());
        (status, self.stdout, self.stderr.join().unwrap())
    }
}

/// The lines of `stdout` from the first teardown line on.
fn teardown_lines(stdout: &[String]) -> Vec<&str> {
    let first = stdout
        .iter()
        .position(|line| line.starts_with("stop ") || line.starts_with("close "))
        .unwrap_or(stdout.len());
    stdout[first..].iter().map(String::as_str).collect()
}

fn expect_full_teardown(stdout: &[String], stderr: &str) {
    assert_eq!(teardown_lines(stdout), TEARDOWN, "stderr: {stderr}");
}

fn return_ok() {
    let (status, stdout, stderr) = Run::start("return-ok").finish();
    assert_eq!(stdout.first().map(String::as_str), Some("main done"));
    expect_full_teardown(&stdout, &stderr);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

fn return_err() {
    let (status, stdout, stderr) = Run::start("return-err").finish();
    expect_full_teardown(&stdout, &stderr);
    // `Display`, as `anyhow` prints it (it was `Debug`: `Error: Other("failed on purpose")`).
    assert!(stderr.contains("Error: failed on purpose\n"), "{stderr}");
    assert!(!stderr.contains("Other("), "{stderr}");
    assert_eq!(status.code(), Some(1));
}

fn return_start_err() {
    let (status, stdout, stderr) = Run::start("start-err").finish();
    expect_full_teardown(&stdout, &stderr);
    let taken = std::io::Error::from_raw_os_error(libc::EADDRINUSE).to_string();
    let expected = format!(
        "Error: state `webapp/server` failed to start: {taken}\n\nCaused by:\n    0: {taken}\n"
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected:?} in {stderr:?}"
    );
    assert!(!stderr.contains("Start {"), "{stderr}");
    assert_eq!(status.code(), Some(1));
}

fn panic_in_main() {
    let (status, stdout, stderr) = Run::start("panic").finish();
    expect_full_teardown(&stdout, &stderr);
    assert!(stderr.contains("main panicked on purpose"), "{stderr}");
    assert_eq!(status.code(), Some(101));
}

fn process_exit() {
    let (status, stdout, stderr) = Run::start("exit").finish();
    expect_full_teardown(&stdout, &stderr);
    assert_eq!(status.code(), Some(3), "stderr: {stderr}");
}

fn process_exit_holding_a_guard() {
    let began = Instant::now();
    let (status, stdout, stderr) = Run::start("exit-holding-a-guard").finish();
    // The guard on the place is never released: its close gives up after the exit
    // timeout (2 s) and says so; everything else still closes, in order.
    let expected: Vec<&str> = TEARDOWN
        .iter()
        .copied()
        .filter(|line| *line != "close slot")
        .collect();
    assert_eq!(teardown_lines(&stdout), expected, "stderr: {stderr}");
    assert!(
        stderr.contains("SLOT") && stderr.contains("still in use"),
        "{stderr}"
    );
    assert!(began.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(4));
}

fn teardown_fails() {
    let (status, stdout, stderr) = Run::start("teardown-fails").finish();
    expect_full_teardown(&stdout, &stderr);
    assert!(
        stderr.contains("state `failing` failed to stop: cannot stop"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(1));
}

fn by_signal(signal: libc::c_int) {
    let mut run = Run::start("signal");
    run.wait_for("ready");
    run.signal(signal);
    let (status, stdout, stderr) = run.finish();
    expect_full_teardown(&stdout, &stderr);
    assert_eq!(
        status.signal(),
        Some(signal),
        "{status:?}, stderr: {stderr}"
    );
    assert_eq!(status.code(), None);
}

fn sigterm() {
    by_signal(libc::SIGTERM);
}

fn sigint() {
    by_signal(libc::SIGINT);
}

fn second_signal_ends_a_stuck_teardown() {
    let mut run = Run::start("stuck");
    run.wait_for("ready");
    let began = Instant::now();
    run.signal(libc::SIGINT);
    run.wait_for("stopping stuck");
    run.signal(libc::SIGINT);
    let (status, stdout, stderr) = run.finish();
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "the second signal was ignored"
    );
    assert_eq!(
        status.signal(),
        Some(libc::SIGINT),
        "{status:?}, stderr: {stderr}"
    );
    // The stuck stop never finished, and nothing after it ran.
    assert_eq!(stdout, ["ready", "stopping stuck"], "stderr: {stderr}");
}

fn chained_handlers_still_run() {
    let mut run = Run::start("chained");
    run.wait_for("ready");
    run.signal(libc::SIGTERM);
    let (status, stdout, stderr) = run.finish();
    assert!(
        stdout
            .iter()
            .any(|line| line == "before: true, after: true"),
        "{stdout:?}, stderr: {stderr}"
    );
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}

fn close_on_shutdown_without_main_attribute() {
    let (status, stdout, stderr) = Run::start("plain-exit").finish();
    assert_eq!(
        stdout,
        ["main done", "close r2", "close r1"],
        "stderr: {stderr}"
    );
    assert_eq!(status.code(), Some(0));
}

fn main() -> ExitCode {
    match std::env::var(CHILD).as_deref() {
        Ok("chained") => return child_chained(),
        Ok("plain-exit") => return child_plain_exit(),
        Ok(_) => return child_main(),
        Err(_) => {}
    }
    let tests: &[(&str, fn())] = &[
        ("main_returns_ok", return_ok),
        ("main_returns_err", return_err),
        ("main_returns_a_start_error", return_start_err),
        ("main_panics", panic_in_main),
        ("process_exit", process_exit),
        ("process_exit_holding_a_guard", process_exit_holding_a_guard),
        ("teardown_fails", teardown_fails),
        ("sigterm", sigterm),
        ("sigint", sigint),
        (
            "second_signal_ends_a_stuck_teardown",
            second_signal_ends_a_stuck_teardown,
        ),
        ("chained_handlers_still_run", chained_handlers_still_run),
        (
            "close_on_shutdown_without_main_attribute",
            close_on_shutdown_without_main_attribute,
        ),
    ];
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for (name, test) in &selected {
        let outcome = std::panic::catch_unwind(test);
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
