//! Fault injection: errors and panics in starts, stops, watch callbacks and a value's `Drop`
//! at every position of a chain of dependent states; a user mutex poisoned inside a start; a
//! stop that never returns. After every fault, every state stays usable: the library is never
//! poisoned and never hangs.
//!
//! Its own test binary, because `lifecycle::stop()` stops every state of the process; the
//! tests take turns through [`serial`].

mod common;

use common::Log;
use lifecycle::{Error, State};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// `stop()` is global: the tests of this binary take turns.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the stop timeout until dropped (also when the test fails).
struct StopTimeout;

impl StopTimeout {
    fn set(timeout: Duration) -> Self {
        lifecycle::set_stop_timeout(timeout);
        Self
    }
}

impl Drop for StopTimeout {
    fn drop(&mut self) {
        lifecycle::set_stop_timeout(Duration::from_secs(10));
    }
}

fn names(states: impl IntoIterator<Item = lifecycle::StateInfo>) -> Vec<String> {
    states.into_iter().map(|s| s.name().to_owned()).collect()
}

/// Waits (generously, for a loaded machine) until `done` holds.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A state whose first stop blocks until `release` is sent, and which counts its starts and
/// stops; `returned` is set when a stop function returns.
struct Stuck {
    state: Arc<State<usize>>,
    release: mpsc::Sender<()>,
    starts: Arc<AtomicUsize>,
    stops: Arc<AtomicUsize>,
    returned: Arc<AtomicBool>,
}

fn stuck(name: &'static str, start_gate: Option<mpsc::Receiver<()>>) -> Stuck {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let start_gate = Mutex::new(start_gate);
    let (starts, stops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let returned = Arc::new(AtomicBool::new(false));
    let (on_start, on_stop, on_return) = (starts.clone(), stops.clone(), returned.clone());
    let state = State::new(name, move || {
        let n = on_start.fetch_add(1, SeqCst) + 1;
        if n == 2 {
            // The second start waits for the test, if it asked to.
            if let Some(gate) = &*start_gate.lock().unwrap() {
                gate.recv().unwrap();
            }
        }
        Ok(n)
    })
    .with_stop(move |_| {
        if on_stop.fetch_add(1, SeqCst) == 0 {
            released.lock().unwrap().recv().unwrap(); // the first stop never returns by itself
        }
        on_return.store(true, SeqCst);
    });
    Stuck {
        state: Arc::new(state),
        release,
        starts,
        stops,
        returned,
    }
}

/// Realizes `stuck` and lets `lifecycle::stop()` give up on it.
fn abandon(stuck: &Stuck) {
    stuck.state.get();
    let _timeout = StopTimeout::set(Duration::from_millis(100));
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert!(
        matches!(&report.failed[..], [(_, Error::StopTimedOut { .. })]),
        "{report}"
    );
}

#[test]
fn a_stuck_stop_returning_late_leaves_a_restarted_state_tracked() {
    let _serial = serial();
    let stuck = stuck("faults::late-after-restart", None);
    abandon(&stuck);
    stuck.state.force_close().unwrap();
    assert_eq!(*stuck.state.get(), 2, "started again after force_close");
    assert_eq!(names(lifecycle::status()), ["faults::late-after-restart"]);

    // The abandoned stop returns now: the new realization is none of its business.
    stuck.release.send(()).unwrap();
    eventually("the stuck stop returned", || stuck.returned.load(SeqCst));
    std::thread::sleep(Duration::from_millis(300)); // its worker finishes its bookkeeping
    assert!(stuck.state.is_realized());
    assert_eq!(
        names(lifecycle::status()),
        ["faults::late-after-restart"],
        "the restarted state is still tracked"
    );
    let report = lifecycle::stop().unwrap();
    assert_eq!(report.stopped, ["faults::late-after-restart"]);
    assert_eq!(stuck.starts.load(SeqCst), stuck.stops.load(SeqCst));
}

#[test]
fn a_stuck_stop_returning_during_a_new_start_does_not_let_a_second_start_in() {
    let _serial = serial();
    let (open_gate, gate) = mpsc::channel::<()>();
    let stuck = stuck("faults::late-during-start", Some(gate));
    abandon(&stuck);
    stuck.state.force_close().unwrap();
    std::thread::scope(|s| {
        // The second start runs (and waits at the gate) while the stuck stop returns.
        let first = s.spawn(|| *stuck.state.get());
        eventually("the second start began", || stuck.starts.load(SeqCst) == 2);
        stuck.release.send(()).unwrap();
        eventually("the stuck stop returned", || stuck.returned.load(SeqCst));
        std::thread::sleep(Duration::from_millis(300));
        // A reader now must wait for the start in progress, not start a third time.
        let second = s.spawn(|| *stuck.state.get());
        std::thread::sleep(Duration::from_millis(300));
        open_gate.send(()).unwrap();
        assert_eq!(first.join().unwrap(), 2);
        assert_eq!(second.join().unwrap(), 2, "the reader saw the one start");
    });
    assert_eq!(stuck.starts.load(SeqCst), 2, "started exactly once more");
    lifecycle::stop().unwrap();
    assert_eq!(stuck.starts.load(SeqCst), stuck.stops.load(SeqCst));
}

/// Runs `f` on its own thread; fails (instead of hanging the test run) if it does not finish
/// within `limit`. A hung thread is left behind: the test binary still ends.
fn within<R: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    result
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}: deadlock"))
}

#[test]
fn a_stop_that_needs_a_state_whose_start_needs_the_stopping_state_is_a_cycle_not_a_deadlock() {
    let _serial = serial();
    // B's stop reads A; A's start reads B. Thread X starts A while thread Y stops B: Y's stop
    // waits for A's start, which waits for B's stop.
    let (a_starting, a_is_starting) = mpsc::channel::<()>();
    let (in_b_stop, y_in_b_stop) = mpsc::channel::<()>();
    let (a_is_starting, y_in_b_stop) = (Mutex::new(a_is_starting), Mutex::new(y_in_b_stop));
    let a_slot: Arc<Mutex<Option<Arc<State<u32>>>>> = Arc::default();
    let a_for_b = Arc::clone(&a_slot);
    let seen_in_stop = Log::default();
    let seen = seen_in_stop.clone();
    let b = Arc::new(
        State::new("faults::cycle-b", || Ok(1_u32)).with_stop(move |_| {
            in_b_stop.send(()).unwrap();
            let a = a_for_b.lock().unwrap().clone().unwrap();
            let read = match a.try_get() {
                Ok(value) => format!("A = {}", *value),
                Err(error) => error.to_string(),
            };
            seen.push(read);
        }),
    );
    let b_for_a = Arc::clone(&b);
    let first = AtomicBool::new(true);
    let a = Arc::new(State::new("faults::cycle-a", move || {
        if first.swap(false, SeqCst) {
            a_starting.send(()).unwrap();
            y_in_b_stop.lock().unwrap().recv().unwrap(); // Y is inside B's stop now
        }
        Ok(*b_for_a.try_get()? + 1)
    }));
    *a_slot.lock().unwrap() = Some(Arc::clone(&a));
    b.get();

    let x = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || a.try_get().map(|v| *v).map_err(|e| e.to_string()))
    };
    a_is_starting.lock().unwrap().recv().unwrap();
    let stop_b = {
        let b = Arc::clone(&b);
        within(Duration::from_secs(20), "B's stop", move || b.stop())
    };
    let x = within(Duration::from_secs(20), "A's start", move || {
        x.join().unwrap()
    });
    stop_b.unwrap();
    let seen = seen_in_stop.take();
    // One side closes the cycle and is told so; the other goes on.
    match &x {
        Err(error) => assert!(error.contains("start cycle"), "{error}"),
        Ok(_) => assert!(seen[0].contains("start cycle"), "{seen:?}"),
    }
    // Nothing is left stuck: both states work afterwards.
    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(*a.get(), 2);
    a.stop().unwrap();
    b.stop().unwrap();
}

#[test]
fn a_start_that_stops_a_state_whose_start_needs_it_is_a_cycle_not_a_deadlock() {
    let _serial = serial();
    // A's start stops B; B's start reads A. Thread Y starts B, thread X starts A.
    let (b_waits_for_a, a_is_read) = mpsc::channel::<()>();
    let a_is_read = Mutex::new(a_is_read);
    let (a_starting, a_is_starting) = mpsc::channel::<()>();
    let a_is_starting = Mutex::new(a_is_starting);
    let b_slot: Arc<Mutex<Option<Arc<State<u32>>>>> = Arc::default();
    let b_for_a = Arc::clone(&b_slot);
    let stop_results = Log::default();
    let results = stop_results.clone();
    let first_a = AtomicBool::new(true);
    let a = Arc::new(State::new("faults::stop-cycle-a", move || {
        if first_a.swap(false, SeqCst) {
            a_starting.send(()).unwrap();
            a_is_read.lock().unwrap().recv().unwrap();
            std::thread::sleep(Duration::from_millis(100)); // B's start is waiting for A
        }
        let b = b_for_a.lock().unwrap().clone().unwrap();
        results.push(match b.stop() {
            Ok(()) => "stopped".to_owned(),
            Err(error) => error.to_string(),
        });
        Ok(1_u32)
    }));
    let a_for_b = Arc::clone(&a);
    let first_b = AtomicBool::new(true);
    let b = Arc::new(State::new("faults::stop-cycle-b", move || {
        if first_b.swap(false, SeqCst) {
            a_is_starting.lock().unwrap().recv().unwrap();
            b_waits_for_a.send(()).unwrap();
        }
        Ok(*a_for_b.try_get()? + 1)
    }));
    *b_slot.lock().unwrap() = Some(Arc::clone(&b));

    let y = {
        let b = Arc::clone(&b);
        std::thread::spawn(move || b.try_get().map(|v| *v).map_err(|e| e.to_string()))
    };
    let x = {
        let a = Arc::clone(&a);
        within(Duration::from_secs(20), "A's start", move || {
            a.try_get().map(|v| *v).map_err(|e| e.to_string())
        })
    };
    let y = within(Duration::from_secs(20), "B's start", move || {
        y.join().unwrap()
    });
    assert_eq!(x, Ok(1), "A's start goes on whatever its stop of B said");
    let results = stop_results.take();
    // One side closes the cycle and is told so.
    match &y {
        Err(error) => assert!(error.contains("start cycle"), "{error}"),
        Ok(_) => assert!(results[0].contains("start cycle"), "{results:?}"),
    }
    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(*b.get(), 2);
    a.stop().unwrap();
    b.stop().unwrap();
}
