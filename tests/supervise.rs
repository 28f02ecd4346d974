//! Supervision of sync states through the public API: a failure restarts the state with its
//! dependents (rest-for-one), a check that fails, intensity exceeded gives up, a user's stop
//! never restarts, a stale handle is ignored, concurrent failures coalesce.

mod common;

use lifecycle::{Error, Event, State, StateInfo, Status, Supervise};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn fast() -> Supervise {
    Supervise::new()
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .interval(Duration::from_millis(10))
}

/// Waits (up to 5 s) until `done` holds.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Records the events of the states whose name starts with `prefix`.
fn record(prefix: &'static str) -> Arc<Mutex<Vec<String>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    lifecycle::watch(prefix, move |event: &Event, state: &StateInfo| {
        if let Some(name) = state.name().strip_prefix(prefix) {
            let event = match event {
                Event::Failed(_) => "failed".to_owned(),
                Event::Restarting { attempt, .. } => format!("restarting {attempt}"),
                Event::GaveUp(_) => "gave up".to_owned(),
                Event::Started => "started".to_owned(),
                Event::Stopped => "stopped".to_owned(),
                _ => return,
            };
            sink.lock().unwrap().push(format!("{name} {event}"));
        }
    });
    log
}

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let c = Arc::new(AtomicUsize::new(0));
    (Arc::clone(&c), c)
}

fn restarts(name: &str) -> u32 {
    lifecycle::health_of(&[name])
        .states
        .iter()
        .find(|s| s.name == name)
        .map_or(0, |s| s.restarts)
}

#[test]
fn a_failure_restarts_the_state_and_brings_its_dependents_back_in_order() {
    let _serial = common::serial();
    let log = record("sv1/");
    let (starts, count) = counter();
    let db = Arc::new(
        State::new("sv1/db", move || Ok(count.fetch_add(1, Ordering::SeqCst))).supervise(fast()),
    );
    let d = Arc::clone(&db);
    let api = Arc::new(State::new("sv1/api", move || Ok(*d.get() * 10)));
    let a = Arc::clone(&api);
    let web = State::new("sv1/web", move || Ok(*a.get() + 1));
    assert_eq!(*web.get(), 1);
    log.lock().unwrap().clear();

    assert!(db.fail("connection lost"));
    eventually("the restart", || {
        restarts("sv1/db") == 1 && web.is_realized()
    });
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    assert_eq!(*web.get(), 11, "the dependents read the new value");
    assert_eq!(
        *log.lock().unwrap(),
        [
            "db failed",
            "db restarting 1",
            "web stopped",
            "api stopped",
            "db stopped",
            "db started",
            "api started",
            "web started",
        ]
    );
    let health = lifecycle::health_of(&["sv1/db"]);
    let state = health.states.iter().find(|s| s.name == "sv1/db").unwrap();
    assert_eq!(state.last_error.as_deref(), Some("connection lost"));
    assert!(health.ready);
    lifecycle::unwatch("sv1/");
}

#[test]
fn a_check_that_fails_n_times_then_passes_restarts_n_times() {
    let _serial = common::serial();
    let failures = Arc::new(AtomicUsize::new(3));
    let left = Arc::clone(&failures);
    let pool = State::new("sv2/pool", || Ok("pool"))
        .supervise(fast())
        .with_check(move |_: &&str| {
            if left.load(Ordering::SeqCst) == 0 {
                return Ok(());
            }
            left.fetch_sub(1, Ordering::SeqCst);
            Err("ping timed out")
        });
    pool.get();
    eventually("three restarts", || restarts("sv2/pool") == 3);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(restarts("sv2/pool"), 3, "a passing check restarts nothing");
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert_eq!(pool.status(), Status::Realized);
    let health = lifecycle::health_of(&["sv2/pool"]);
    assert!(health.ready && health.live, "{health}");
}

#[test]
fn more_than_max_restarts_within_the_window_gives_up() {
    let _serial = common::serial();
    let log = record("sv3/");
    let (attempts, count) = counter();
    let flaky = State::new("sv3/flaky", move || {
        // The first start succeeds; every restart fails.
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(1)
        } else {
            Err("no route to host".into())
        }
    })
    .supervise(fast().max_restarts(2).within(Duration::from_secs(60)));
    flaky.get();
    assert!(flaky.fail("died"));
    eventually("giving up", || flaky.status() == Status::GaveUp);
    // One failure and two failed restart attempts fill the window; the third attempt's
    // failure gives up.
    assert_eq!(attempts.load(Ordering::SeqCst), 1 + 2);
    let error = flaky.try_get().map(|v| *v).unwrap_err();
    assert!(
        matches!(&error, Error::GaveUp { state, last_error }
            if state == "sv3/flaky" && last_error.contains("no route to host")),
        "{error}"
    );
    assert!(!lifecycle::health().live);
    eventually("the GaveUp event", || {
        log.lock().unwrap().iter().any(|e| e == "flaky gave up")
    });
    assert!(!flaky.fail("again"), "nothing more after giving up");

    // force_close clears it.
    flaky.force_close().unwrap();
    assert_eq!(flaky.status(), Status::Unrealized);
    assert!(lifecycle::health().live);
    lifecycle::unwatch("sv3/");
}

#[test]
fn restart_clears_a_give_up() {
    let _serial = common::serial();
    let state = State::new("sv4/once", || Ok(7)).supervise(fast().max_restarts(0));
    state.get();
    assert!(state.fail("boom"));
    eventually("giving up", || state.status() == Status::GaveUp);
    assert!(!state.is_realized());
    state.restart().unwrap();
    assert_eq!(state.status(), Status::Realized);
    assert!(lifecycle::health().live);
    // Supervised again from zero.
    assert!(state.fail("boom"));
    eventually("giving up again", || state.status() == Status::GaveUp);
    state.force_close().unwrap();
}

#[test]
fn a_user_stop_never_restarts_and_failures_of_unrealized_states_are_ignored() {
    let _serial = common::serial();
    let (starts, count) = counter();
    let state = State::new("sv5/server", move || {
        Ok(count.fetch_add(1, Ordering::SeqCst))
    })
    .supervise(fast())
    .with_check(|_: &usize| Ok::<(), &str>(()));
    assert!(!state.fail("not started"), "unrealized: ignored");
    state.get();
    state.stop().unwrap();
    assert!(!state.fail("after stop"), "stopped: ignored");
    std::thread::sleep(Duration::from_millis(60));
    assert!(!state.is_realized());
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    let unsupervised = State::new("sv5/plain", || Ok(1));
    unsupervised.get();
    assert!(!unsupervised.fail("x"), "not supervised: ignored");
}

#[test]
fn a_stale_handle_does_not_fail_the_new_realization() {
    let _serial = common::serial();
    let handles = Arc::new(Mutex::new(Vec::new()));
    let me: Arc<Mutex<Option<lifecycle::FailHandle>>> = Arc::default();
    let slot = Arc::clone(&me);
    let (starts, count) = counter();
    let state = Arc::new(
        State::new("sv6/task", move || Ok(count.fetch_add(1, Ordering::SeqCst))).supervise(fast()),
    );
    state.get();
    handles.lock().unwrap().push(state.fail_handle());
    *slot.lock().unwrap() = Some(state.fail_handle());
    let old = handles.lock().unwrap()[0].clone();
    assert!(old.fail("the task ended"));
    eventually("the restart", || {
        restarts("sv6/task") == 1 && state.is_realized()
    });
    assert!(!old.fail("the old task ended late"), "stale: ignored");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    assert!(state.fail_handle().fail("the new task ended"));
    eventually("the second restart", || restarts("sv6/task") == 2);
}

#[test]
fn concurrent_failures_from_threads_coalesce_into_one_restart() {
    let _serial = common::serial();
    let (starts, count) = counter();
    let state = Arc::new(
        State::new("sv7/conn", move || Ok(count.fetch_add(1, Ordering::SeqCst)))
            .supervise(fast().backoff(Duration::from_millis(50), Duration::from_millis(50))),
    );
    state.get();
    let taken: usize = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let handle = state.fail_handle();
                scope.spawn(move || usize::from(handle.fail("reset by peer")))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(taken, 1, "one failure taken, the others coalesced");
    eventually("the restart", || {
        restarts("sv7/conn") == 1 && state.is_realized()
    });
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(starts.load(Ordering::SeqCst), 2);
}

/// The program of [`under_main_giving_up_tears_down_and_exits_with_exit_gave_up`], run as a
/// child process of this test binary.
mod child {
    use super::*;

    #[lifecycle::main]
    pub fn main() {
        let db = State::new("child/db", || Ok(1)).with_stop(|_: i32| println!("stopped child/db"));
        let server = State::new("child/server", || Ok("up"))
            .with_stop(|_: &str| println!("stopped child/server"))
            .supervise(super::fast().max_restarts(0));
        db.get();
        server.get();
        println!("serving");
        server.fail("the server task ended");
        // The supervisor gives up, tears down and exits; main never returns.
        std::thread::sleep(Duration::from_secs(30));
        println!("still running");
    }
}

#[test]
fn under_main_giving_up_tears_down_and_exits_with_exit_gave_up() {
    if std::env::var_os("LIFECYCLE_SUPERVISE_CHILD").is_some() {
        child::main();
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "under_main_giving_up_tears_down_and_exits_with_exit_gave_up",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LIFECYCLE_SUPERVISE_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(lifecycle::EXIT_GAVE_UP),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let server = stdout
        .find("stopped child/server")
        .expect("the server was stopped");
    let db = stdout
        .find("stopped child/db")
        .expect("the teardown stopped db");
    assert!(server < db, "reverse order: {stdout}");
    assert!(!stdout.contains("still running"), "{stdout}");
}

static PINGS_LEFT: AtomicUsize = AtomicUsize::new(2);

fn ping(_: &&str) -> Result<(), String> {
    common::countdown::fail_while_left(&PINGS_LEFT, |n| format!("ping failed ({n} left)"))
}

#[lifecycle::defstate(
    supervise(backoff = "5ms..20ms", max_restarts = 5, within = "60s"),
    check = ping,
    interval = "10ms"
)]
static DECLARED: &str = "declared";

#[lifecycle::defstate(supervise, check = |v| if v.is_empty() { Err("empty") } else { Ok(()) })]
static DEFAULTS: String = String::from("x");

#[test]
fn a_declared_supervised_state_restarts_on_its_failing_check() {
    let _serial = common::serial();
    let name = DECLARED.name().to_owned();
    assert_eq!(*DECLARED.get(), "declared");
    eventually("two restarts", || restarts(&name) == 2);
    assert_eq!(PINGS_LEFT.load(Ordering::SeqCst), 0);
    assert!(DECLARED.fail("by hand"));
    eventually("a third restart", || restarts(&name) == 3);
    DECLARED.stop().unwrap();
    assert_eq!(DEFAULTS.get().as_str(), "x");
    assert!(DEFAULTS.fail("by hand"), "supervised with the defaults");
    DEFAULTS.stop().unwrap();
}

#[test]
fn a_user_stop_during_the_backoff_cancels_the_restart() {
    let _serial = common::serial();
    let (starts, count) = counter();
    let state = State::new("sv8/conn", move || Ok(count.fetch_add(1, Ordering::SeqCst)))
        .supervise(fast().backoff(Duration::from_millis(80), Duration::from_millis(80)));
    state.get();
    assert!(state.fail("reset"));
    state.stop().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(!state.is_realized(), "stopped by its user: not restarted");
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert_eq!(restarts("sv8/conn"), 0);
    assert!(lifecycle::health_of(&["sv8/conn"]).live);
}
