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
