//! The races of issue 11, as rules the kernel holds by construction: each test is the
//! scenario of one defect, with real threads. (The loom models of rules 1 and 2 are in
//! `lifecycle-core/src/kernel/loom_tests.rs`.)
//!
//! Every test here stops states with `lifecycle::stop_where` or changes the stop timeout, so
//! they take turns.

use lifecycle::{Error, State, Status};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{runtime, serial, StopTimeout};

fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn listed(name: &str) -> Option<Option<Status>> {
    lifecycle::status()
        .into_iter()
        .find(|info| info.name() == name)
        .map(|info| info.status())
}

/// A state whose values are 0, 1, 2, ... and which records every value its stop got.
fn numbered(name: &'static str) -> (Arc<State<usize>>, Arc<Mutex<Vec<usize>>>) {
    let next = AtomicUsize::new(0);
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&stopped);
    let state = State::new(name, move || Ok(next.fetch_add(1, SeqCst)))
        .with_stop(move |value| log.lock().unwrap().push(value));
    (Arc::new(state), stopped)
}

/// Rule 1: a teardown that gives up marks failed only the stop it owns; `force_close` never
/// clears a slot whose value another stop still holds; every value is stopped once;
/// `status()` and `is_realized()` agree.
#[test]
fn a_teardown_that_gives_up_does_not_hijack_another_threads_stop() {
    let _turn = serial();
    let name = "rules::hijack";
    let (state, stopped) = numbered(name);
    std::thread::scope(|s| {
        // Thread R holds value 0 until told.
        let (let_go, told) = mpsc::channel::<()>();
        let (holding, held) = mpsc::channel::<usize>();
        let state = &state;
        let r = s.spawn(move || {
            let guard = state.get();
            holding.send(*guard).unwrap();
            let _ = told.recv();
        });
        assert_eq!(held.recv().unwrap(), 0);
        // Thread T stops it and waits for R's guard.
        let t = s.spawn(|| state.stop_within(Duration::from_secs(20)));
        eventually("T's stop began", || state.status() == Status::Stopping);

        // A teardown with a short bound queues behind T's stop and gives up.
        let _timeout = StopTimeout::set(Duration::from_millis(100));
        let Err(Error::StopAll(report)) = lifecycle::stop_where(|info| info.name() == name) else {
            panic!("the teardown should give up on the state");
        };
        assert!(
            matches!(&report.failed[..], [(_, Error::StopTimedOut { .. })]),
            "{report}"
        );

        // What the error says to do must not clear the slot under T's stop.
        let forced = state.force_close();
        assert!(
            matches!(forced, Err(Error::StillStopping { .. })),
            "force_close while T's stop holds value 0: {forced:?}"
        );
        // Nothing starts a second value beside value 0, and what is listed agrees.
        assert!(matches!(
            state.try_get(),
            Err(Error::StopFailedEarlier { .. })
        ));
        assert!(!state.is_realized());
        assert_eq!(state.status(), Status::StopFailed);
        assert_eq!(listed(name), Some(Some(Status::StopFailed)));

        // R lets go: T's stop — the one that owns value 0 — completes.
        let_go.send(()).unwrap();
        r.join().unwrap();
        t.join()
            .unwrap()
            .expect("T's stop completes when R lets go");
    });
    assert_eq!(
        *stopped.lock().unwrap(),
        [0],
        "value 0 stopped exactly once"
    );
    assert_eq!(state.status(), Status::Unrealized);
    assert_eq!(listed(name), None);
    assert_eq!(*state.get(), 1);
    assert_eq!(listed(name), Some(Some(Status::Realized)));
    state.stop().unwrap();
    assert_eq!(
        *stopped.lock().unwrap(),
        [0, 1],
        "every value stopped exactly once"
    );
    assert_eq!(listed(name), None);
}

/// Rule 1, the other owner: when the stop that gives up is the teardown's own (its stop
/// function does not return), that stop is marked failed; `force_close` may clear the slot
/// once that stop has moved the value out, and the late stop then touches nothing.
#[test]
fn a_given_up_stop_that_owns_the_value_is_the_one_marked_failed() {
    let _turn = serial();
    let name = "rules::own-stuck";
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let stops = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&stops);
    let state = State::new(name, || Ok(7_u8)).with_stop(move |_| {
        if counted.fetch_add(1, SeqCst) == 0 {
            let _ = released.lock().unwrap().recv();
        }
    });
    state.get();
    let _timeout = StopTimeout::set(Duration::from_millis(100));
    assert!(lifecycle::stop_where(|info| info.name() == name).is_err());
    assert_eq!(state.status(), Status::StopFailed);
    assert!(matches!(
        state.try_get(),
        Err(Error::StopFailedEarlier { .. })
    ));
    state
        .force_close()
        .expect("the stuck stop has the value, the slot is empty");
    assert_eq!(*state.get(), 7);
    release.send(()).unwrap();
    eventually("the stuck stop returned", || stops.load(SeqCst) == 1);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        state.is_realized(),
        "the late stop leaves the new value alone"
    );
    assert_eq!(listed(name), Some(Some(Status::Realized)));
    state.stop().unwrap();
    assert_eq!(stops.load(SeqCst), 2);
}

/// Rule 2: a restart waits for a dependent whose start is running and read the old value,
/// so that afterwards no realized state holds data of a stopped value.
#[test]
fn restart_leaves_no_dependent_built_from_the_old_value() {
    let _turn = serial();
    let (config, _) = numbered("rules::restart::config");
    let (gate_open, gate) = mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let read = Arc::new(AtomicBool::new(false));
    let dependent = {
        let (config, read) = (Arc::clone(&config), Arc::clone(&read));
        Arc::new(State::new("rules::restart::server", move || {
            let seen = *config.get();
            if !read.swap(true, SeqCst) {
                let _ = gate.lock().unwrap().recv(); // the first start is still running
            }
            Ok(seen)
        }))
    };
    assert_eq!(*config.get(), 0);
    std::thread::scope(|s| {
        let starter = s.spawn(|| *dependent.get());
        eventually("the dependent's start read the config", || {
            read.load(SeqCst)
        });
        let restart = s.spawn(|| config.restart());
        std::thread::sleep(Duration::from_millis(100));
        gate_open.send(()).unwrap();
        // The reader got the value its start built, or (if the restart stopped it before the
        // reader entered) the one its retried start built from the new config.
        let got = starter.join().unwrap();
        assert!(got == 0 || got == 1, "{got}");
        restart.join().unwrap().expect("restart");
    });
    assert_eq!(*config.get(), 1);
    if let Some(value) = dependent.peek() {
        assert_eq!(
            *value, 1,
            "a realized dependent holds data of the stopped value"
        );
    }
    lifecycle::stop_where(|info| info.name().starts_with("rules::restart::")).unwrap();
}

/// Rule 2, async: the same with async states on a multi-threaded runtime.
#[test]
fn async_restart_leaves_no_dependent_built_from_the_old_value() {
    let _turn = serial();
    let runtime = runtime();
    let next = Arc::new(AtomicUsize::new(0));
    let config = {
        let next = Arc::clone(&next);
        Arc::new(lifecycle::AsyncState::new(
            "rules::arestart::config",
            move || {
                let value = next.fetch_add(1, SeqCst);
                async move { Ok::<_, std::io::Error>(value) }
            },
        ))
    };
    let read = Arc::new(AtomicBool::new(false));
    let (gate_open, gate) = tokio::sync::watch::channel(false);
    let dependent = {
        let (config, read) = (Arc::clone(&config), Arc::clone(&read));
        Arc::new(lifecycle::AsyncState::new(
            "rules::arestart::server",
            move || {
                let (config, read, mut gate) =
                    (Arc::clone(&config), Arc::clone(&read), gate.clone());
                async move {
                    let seen = *config.get().await;
                    read.store(true, SeqCst);
                    while !*gate.borrow_and_update() {
                        let _ = gate.changed().await;
                    }
                    Ok::<_, std::io::Error>(seen)
                }
            },
        ))
    };
    runtime.block_on(async {
        assert_eq!(*config.get().await, 0);
        let starter = tokio::spawn({
            let dependent = Arc::clone(&dependent);
            async move { *dependent.get().await }
        });
        while !read.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let restart = tokio::spawn({
            let config = Arc::clone(&config);
            async move { config.restart().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        gate_open.send(true).unwrap();
        let got = starter.await.unwrap();
        assert!(got == 0 || got == 1, "{got}");
        restart.await.unwrap().expect("restart");
        assert_eq!(*config.get().await, 1);
        if let Some(value) = dependent.peek() {
            assert_eq!(
                *value, 1,
                "a realized dependent holds data of the stopped value"
            );
        }
        lifecycle::stop_async_where(|info| info.name().starts_with("rules::arestart::"))
            .await
            .unwrap();
    });
}

/// Rule 3: `lifecycle::stop()` runs each stop function in the caller's binding scope, only
/// for that call, and the teardown never starts the real bound state.
#[test]
fn a_teardown_runs_stop_functions_with_the_callers_bindings() {
    let _turn = serial();
    let real_starts = Arc::new(AtomicUsize::new(0));
    let sink = {
        let real_starts = Arc::clone(&real_starts);
        Arc::new(State::new("rules::bind::sink", move || {
            real_starts.fetch_add(1, SeqCst);
            Ok(Mutex::new(vec!["real".to_owned()]))
        }))
    };
    let user = |name: &'static str| {
        let sink = Arc::clone(&sink);
        State::new(name, || Ok(())).with_stop(move |()| {
            sink.get()
                .lock()
                .unwrap()
                .push(format!("stopped {}", sink.name()));
        })
    };
    let (first, second) = (user("rules::bind::first"), user("rules::bind::second"));
    let fake = Mutex::new(vec!["fake".to_owned()]);
    // Realized before the binding: a state started while a binding is active would be
    // private to the binding's scope (see `lifecycle::isolate`), not in the registry.
    first.get();
    {
        let _bound = sink.bind(fake);
        lifecycle::stop_where(|info| info.name() == "rules::bind::first").unwrap();
        let fake = sink.get();
        assert_eq!(
            *fake.lock().unwrap(),
            ["fake", "stopped rules::bind::sink"],
            "the stop function reached the bound sink"
        );
    }
    assert_eq!(
        real_starts.load(SeqCst),
        0,
        "the teardown did not start the real sink"
    );
    assert!(!sink.is_realized());
    // A teardown from a thread without bindings: the binding was lent for one call only.
    second.get();
    std::thread::scope(|s| {
        s.spawn(|| lifecycle::stop_where(|info| info.name() == "rules::bind::second").unwrap());
    });
    assert_eq!(real_starts.load(SeqCst), 1);
    assert_eq!(
        *sink.get().lock().unwrap(),
        ["real", "stopped rules::bind::sink"]
    );
    sink.stop().unwrap();
}

/// Rule 4: a stop function that calls `lifecycle::stop()` skips the state it is stopping at
/// once, and the rest stop.
#[test]
fn a_stop_function_calling_stop_all_skips_its_own_state_at_once() {
    let _turn = serial();
    let _timeout = StopTimeout::set(Duration::from_secs(2));
    let inner = Arc::new(Mutex::new(None));
    let other = State::new("rules::nested::other", || Ok(()));
    let outer = {
        let inner = Arc::clone(&inner);
        State::new("rules::nested::outer", || Ok(())).with_stop(move |()| {
            let began = Instant::now();
            let result = lifecycle::stop_where(|info| info.name().starts_with("rules::nested::"));
            *inner.lock().unwrap() = Some((began.elapsed(), result));
        })
    };
    outer.get();
    other.get();
    outer.stop().unwrap();
    let (took, result) = inner.lock().unwrap().take().expect("the stop function ran");
    let report = result.expect("the nested stop() reports no failure");
    assert!(
        took < Duration::from_secs(1),
        "the nested stop() waited {took:?}"
    );
    assert_eq!(report.stopped, ["rules::nested::other"]);
    assert_eq!(report.skipped, ["rules::nested::outer"]);
    assert!(!outer.is_realized() && !other.is_realized());
}

/// Rule 5: a thread holding a guard reads the state again while another thread's stop waits
/// for it; the stop completes when the guards drop.
#[test]
fn a_thread_holding_a_guard_reads_again_while_a_stop_waits() {
    let _turn = serial();
    let (state, stopped) = numbered("rules::reenter");
    let guard = state.get();
    std::thread::scope(|s| {
        let stop = s.spawn(|| state.stop_within(Duration::from_secs(20)));
        eventually("the stop waits for this thread", || {
            state.status() == Status::Stopping
        });
        let began = Instant::now();
        let again = state.get();
        assert!(
            began.elapsed() < Duration::from_secs(1),
            "the nested read waited"
        );
        assert_eq!(*again, *guard);
        drop(again);
        assert!(
            !stop.is_finished(),
            "the stop still waits for the outer guard"
        );
        drop(guard);
        stop.join()
            .unwrap()
            .expect("the stop completes when the guards drop");
    });
    assert_eq!(*stopped.lock().unwrap(), [0]);
}

/// Status agrees with what `get` does, and a failed stop is listed as failed until
/// `force_close`.
#[test]
fn status_shows_a_failed_stop_until_force_close() {
    let _turn = serial();
    let name = "rules::status::failing";
    let state = State::new(name, || Ok(1_u8)).with_stop(|_| Err::<(), _>("no"));
    assert_eq!(state.status(), Status::Unrealized);
    state.get();
    assert_eq!(
        (state.status(), state.is_realized()),
        (Status::Realized, true)
    );
    assert!(state.stop().is_err());
    assert_eq!(
        (state.status(), state.is_realized()),
        (Status::StopFailed, false)
    );
    assert_eq!(listed(name), Some(Some(Status::StopFailed)));
    assert!(matches!(
        state.try_get(),
        Err(Error::StopFailedEarlier { .. })
    ));
    state.force_close().unwrap();
    assert_eq!(state.status(), Status::Unrealized);
    assert_eq!(listed(name), None);
}

/// `lifecycle::stop_within`: the sync twin of `stop_async_within` bounds each state's wait.
#[test]
fn stop_within_bounds_each_state() {
    let _turn = serial();
    let held = State::new("rules::within::held", || Ok(1_u8));
    let free = State::new("rules::within::free", || Ok(2_u8));
    free.get();
    std::thread::scope(|s| {
        let (let_go, told) = mpsc::channel::<()>();
        let (holding, holds) = mpsc::channel::<()>();
        let held = &held;
        s.spawn(move || {
            let _guard = held.get();
            holding.send(()).unwrap();
            let _ = told.recv();
        });
        holds.recv().unwrap();
        let began = Instant::now();
        let Err(Error::StopAll(report)) = lifecycle::stop_within(Duration::from_millis(100)) else {
            panic!("the held state cannot stop");
        };
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
        assert!(report
            .stopped
            .iter()
            .any(|name| name == "rules::within::free"));
        assert!(report
            .failed
            .iter()
            .any(|(name, error)| name == "rules::within::held"
                && matches!(error, Error::StillInUse { .. })));
        let_go.send(()).unwrap();
    });
    held.stop().unwrap();
}
