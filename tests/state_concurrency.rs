//! Threads, dependencies, cycles and stops that wait for readers.

mod common;

use lifecycle::{defstate, Error, State};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[test]
fn start_runs_exactly_once_when_many_threads_race_on_the_first_get() {
    for round in 0..50 {
        let starts = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&starts);
        let state = State::new(format!("conc::race-{round}"), move || {
            std::thread::sleep(Duration::from_millis(1));
            Ok(counter.fetch_add(1, SeqCst) + 100)
        });
        let barrier = Barrier::new(12);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    barrier.wait();
                    assert_eq!(*state.get(), 100);
                });
            }
        });
        assert_eq!(starts.load(SeqCst), 1, "round {round}");
    }
}

#[defstate(name = "CYCLE_A")]
static CYCLE_A: u32 = *CYCLE_B.get() + 1;
#[defstate(name = "CYCLE_B")]
static CYCLE_B: u32 = *CYCLE_A.get() + 1;

#[test]
fn a_start_cycle_is_an_error_naming_the_cycle() {
    let error = CYCLE_A.try_get().unwrap_err();
    // A's start panicked in B's `get`, which failed with the cycle error.
    let message = error.to_string();
    assert!(
        message.contains("start cycle: CYCLE_A -> CYCLE_B -> CYCLE_A"),
        "{message}"
    );
    assert!(!CYCLE_A.is_realized() && !CYCLE_B.is_realized());
    // Nothing is left half-started: both can be tried again and fail the same way.
    assert!(CYCLE_B
        .try_get()
        .unwrap_err()
        .to_string()
        .contains("start cycle: CYCLE_B -> CYCLE_A -> CYCLE_B"));
}

#[defstate(name = "SELF_REF")]
static SELF_REF: u32 = *SELF_REF.get();

#[test]
fn a_state_reading_itself_is_a_cycle_not_a_deadlock() {
    let message = SELF_REF.try_get().unwrap_err().to_string();
    assert!(
        message.contains("start cycle: SELF_REF -> SELF_REF"),
        "{message}"
    );
}

/// Makes the first start of each side wait for the other, so both are starting at once.
/// Later attempts (one side retries after the other failed) pass straight through.
static CROSS_GATE: Barrier = Barrier::new(2);
static CROSS_FIRST_A: AtomicBool = AtomicBool::new(true);
static CROSS_FIRST_B: AtomicBool = AtomicBool::new(true);
#[defstate(name = "CROSS_A")]
static CROSS_A: u32 = {
    if CROSS_FIRST_A.swap(false, SeqCst) {
        CROSS_GATE.wait();
    }
    *CROSS_B.try_get()? + 1
};
#[defstate(name = "CROSS_B")]
static CROSS_B: u32 = {
    if CROSS_FIRST_B.swap(false, SeqCst) {
        CROSS_GATE.wait();
    }
    *CROSS_A.try_get()? + 1
};

#[test]
fn a_cycle_across_two_threads_is_an_error_not_a_deadlock() {
    // Thread 1 starts A while thread 2 starts B; each then needs the other.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| CROSS_A.try_get().map(|v| *v).map_err(|e| e.to_string()));
        let b = s.spawn(|| CROSS_B.try_get().map(|v| *v).map_err(|e| e.to_string()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let errors: Vec<String> = [a, b].into_iter().filter_map(Result::err).collect();
    assert!(!errors.is_empty(), "at least one side must see the cycle");
    assert!(
        errors.iter().all(|e| e.contains("start cycle")),
        "{errors:?}"
    );
}

#[test]
fn stop_waits_for_guards_and_owned_handles_then_hands_over_the_value() {
    let port_state = State::new("conc::listener", || Ok(TcpListener::bind("127.0.0.1:0")?))
        .with_stop(|listener: TcpListener| drop(listener));
    let addr = port_state.get().local_addr().unwrap();
    let owned = port_state.get_owned();
    let released = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&released);
    let holder = std::thread::spawn(move || {
        let _guard_elsewhere = owned;
        std::thread::sleep(Duration::from_millis(150));
        flag.store(1, SeqCst);
    });
    let began = Instant::now();
    port_state.stop().unwrap();
    assert_eq!(
        released.load(SeqCst),
        1,
        "stop returned before the handle was released"
    );
    assert!(began.elapsed() >= Duration::from_millis(100));
    holder.join().unwrap();
    // The port is free the moment stop returns.
    assert!(TcpStream::connect(addr).is_err());
    TcpListener::bind(addr).expect("no 'address already in use' after stop");
}

#[test]
fn stop_fails_at_once_when_this_thread_holds_a_guard() {
    let state = State::new("conc::self-held", || Ok(1));
    let guard = state.get();
    let began = Instant::now();
    let error = state.stop().unwrap_err();
    assert!(began.elapsed() < Duration::from_secs(1));
    assert!(matches!(&error, Error::HeldByCurrentThread { state } if state == "conc::self-held"));
    assert!(error.to_string().contains("drop the guard"), "{error}");
    assert_eq!(*guard, 1, "the state is still realized and readable");
    drop(guard);
    state.stop().unwrap();
}

#[test]
fn a_stop_that_times_out_names_the_state_and_leaves_it_usable() {
    let state = Arc::new(State::new("conc::busy", || Ok(String::from("busy"))));
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let reader = {
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            let guard = state.get();
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            assert_eq!(*guard, "busy", "the value is intact after the failed stop");
        })
    };
    held_rx.recv().unwrap();
    let error = state.stop_within(Duration::from_millis(50)).unwrap_err();
    assert!(
        matches!(&error, Error::StillInUse { state, .. } if state == "conc::busy"),
        "{error}"
    );
    assert!(state.is_realized());
    release_tx.send(()).unwrap();
    reader.join().unwrap();
    state.stop().unwrap();
}

#[test]
fn readers_on_other_threads_never_see_a_stopped_value() {
    struct Live(std::sync::atomic::AtomicBool);
    let state = Arc::new(
        State::new("conc::live", || {
            Ok(Live(std::sync::atomic::AtomicBool::new(true)))
        })
        .with_stop(|live: Live| live.0.store(false, SeqCst)),
    );
    let stop_at = Instant::now() + Duration::from_millis(300);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while Instant::now() < stop_at {
                    let value = state.get();
                    assert!(value.0.load(SeqCst), "read a value after its stop ran");
                }
            });
        }
        s.spawn(|| {
            while Instant::now() < stop_at {
                state.stop().unwrap();
            }
        });
    });
}

#[test]
fn restart_stops_dependents_first_and_starts_them_again() {
    let log = common::Log::default();
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    let config = Arc::new(
        State::new("conc::config", || Ok(8080_u16)).with_stop(move |_| l1.push("stop config")),
    );
    let cfg = Arc::clone(&config);
    let server = Arc::new(
        State::new("conc::server", move || {
            Ok(format!("server on {}", *cfg.get()))
        })
        .with_stop(move |_| l2.push("stop server")),
    );
    let srv = Arc::clone(&server);
    let router = State::new("conc::router", move || {
        Ok(format!("router for {}", *srv.get()))
    })
    .with_stop(move |_| l3.push("stop router"));

    assert_eq!(*router.get(), "router for server on 8080");
    let graph = lifecycle::graph();
    assert_eq!(graph.dependencies_of("conc::router"), ["conc::server"]);
    assert_eq!(graph.dependencies_of("conc::server"), ["conc::config"]);
    assert_eq!(graph.dependents_of("conc::config"), ["conc::server"]);
    let dot = graph.to_dot();
    assert!(
        dot.contains("\"conc::server\" -> \"conc::config\";"),
        "{dot}"
    );

    let restarted = config.restart().unwrap();
    assert_eq!(log.take(), ["stop router", "stop server", "stop config"]);
    assert!(config.is_realized());
    // restart() brings back the dependents that were running, in dependency order.
    assert!(server.is_realized() && router.is_realized());
    assert_eq!(
        restarted.stopped,
        ["conc::router", "conc::server", "conc::config"]
    );
    assert_eq!(
        restarted.started,
        ["conc::config", "conc::server", "conc::router"]
    );
    assert_eq!(*router.get(), "router for server on 8080");

    // restart_alone() keeps the old rule: dependents start again on their next use.
    let restarted = config.restart_alone().unwrap();
    assert_eq!(log.take(), ["stop router", "stop server", "stop config"]);
    assert!(config.is_realized());
    assert!(!server.is_realized() && !router.is_realized());
    assert_eq!(restarted.started, ["conc::config"]);
    assert_eq!(*router.get(), "router for server on 8080");
}

#[test]
fn status_lists_states_in_realization_order() {
    let first = Arc::new(State::new("conc::order-first", || Ok(1)));
    let f = Arc::clone(&first);
    let second = State::new("conc::order-second", move || Ok(*f.get() + 1));
    second.get(); // starts `first` inside: first finishes realizing first
    let third = State::new("conc::order-third", || Ok(3));
    third.get();
    let names: Vec<String> = lifecycle::status()
        .into_iter()
        .map(|s| s.name().to_owned())
        .filter(|n| n.starts_with("conc::order-"))
        .collect();
    assert_eq!(
        names,
        [
            "conc::order-first",
            "conc::order-second",
            "conc::order-third"
        ]
    );
}
