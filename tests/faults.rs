//! Fault injection: errors and panics in starts, stops, watch callbacks and a value's `Drop`
//! at every position of a chain of dependent states; a user mutex poisoned inside a start; a
//! stop that never returns. After every fault, every state stays usable: the library is never
//! poisoned and never hangs.
//!
//! Its own test binary, because `lifecycle::stop()` stops every state of the process; the
//! tests take turns through [`serial`].

mod common;

use common::Log;
use lifecycle::{BoxError, Error, Event, State};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

/// `stop()` is global: the tests of this binary take turns. Also keeps the injected panics
/// from flooding the output (every other panic is printed as usual).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.starts_with("injected fault") {
                default(info);
            }
        }));
    });
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Faults injected by this binary, for the figures of `RELIABILITY.md`.
static INJECTED: AtomicUsize = AtomicUsize::new(0);

/// Invariants broken inside start and stop functions (checked there, reported here).
static BROKEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn broken(what: String) {
    BROKEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(what);
}

fn assert_nothing_broken() {
    let broken = std::mem::take(&mut *BROKEN.lock().unwrap_or_else(PoisonError::into_inner));
    assert!(broken.is_empty(), "{broken:?}");
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

// ---------------------------------------------------------------------------------------
// A chain of dependent states, with a fault at every position.
// ---------------------------------------------------------------------------------------

const OK: u8 = 0;
const FAIL: u8 = 1;
const PANIC: u8 = 2;
/// The value's `Drop` panics (stop faults only).
const DROP_PANIC: u8 = 3;

const POSITIONS: [&str; 3] = ["first", "middle", "last"];

fn kind_name(kind: u8) -> &'static str {
    match kind {
        FAIL => "error",
        PANIC => "panic",
        DROP_PANIC => "panic in Drop",
        _ => "none",
    }
}

/// How one state of a chain misbehaves, and what it did.
#[derive(Debug, Default)]
struct Knobs {
    start: AtomicU8,
    stop: AtomicU8,
    starts: AtomicUsize,
    stops: AtomicUsize,
}

/// A chain's value: `open` until its stop ran; its `Drop` panics when its knobs say so.
#[derive(Debug)]
struct Value {
    name: String,
    knobs: Arc<Knobs>,
    open: AtomicBool,
}

impl Drop for Value {
    fn drop(&mut self) {
        if self.knobs.stop.load(SeqCst) == DROP_PANIC && !std::thread::panicking() {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: {} panicked in Drop", self.name);
        }
    }
}

fn inject(knob: &AtomicU8, what: &str) -> Result<(), BoxError> {
    match knob.load(SeqCst) {
        FAIL => {
            INJECTED.fetch_add(1, SeqCst);
            Err(format!("injected fault: {what} failed").into())
        }
        PANIC => {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: {what} panicked")
        }
        _ => Ok(()),
    }
}

/// Three states: `last`'s start reads `middle`, whose start reads `first`.
struct Chain {
    states: Vec<Arc<State<Value>>>,
    knobs: Vec<Arc<Knobs>>,
    names: Vec<String>,
    prefix: String,
}

impl Chain {
    fn new(tag: &str) -> Self {
        let prefix = format!("faults::{tag}::");
        let mut chain = Chain {
            states: Vec::new(),
            knobs: Vec::new(),
            names: Vec::new(),
            prefix: prefix.clone(),
        };
        for position in POSITIONS {
            let name = format!("{prefix}{position}");
            let knobs = Arc::new(Knobs::default());
            let dependency = chain.states.last().cloned();
            let (on_start, on_stop) = (Arc::clone(&knobs), Arc::clone(&knobs));
            let (start_name, stop_name) = (name.clone(), name.clone());
            let state = State::new(name.clone(), move || {
                if let Some(dependency) = &dependency {
                    let value = dependency.try_get()?;
                    if !value.open.load(SeqCst) {
                        broken(format!("{start_name} read a stopped dependency"));
                    }
                }
                inject(&on_start.start, &format!("start of {start_name}"))?;
                on_start.starts.fetch_add(1, SeqCst);
                Ok(Value {
                    name: start_name.clone(),
                    knobs: Arc::clone(&on_start),
                    open: AtomicBool::new(true),
                })
            })
            .with_stop(move |value: Value| -> Result<(), BoxError> {
                on_stop.stops.fetch_add(1, SeqCst);
                if !value.open.swap(false, SeqCst) {
                    broken(format!("{stop_name} stopped twice"));
                }
                inject(&on_stop.stop, &format!("stop of {stop_name}"))
                // `value` drops here: its `Drop` may panic.
            });
            chain.states.push(Arc::new(state));
            chain.knobs.push(knobs);
            chain.names.push(name);
        }
        chain
    }

    fn first(&self) -> &State<Value> {
        &self.states[0]
    }

    fn last(&self) -> &State<Value> {
        &self.states[2]
    }

    fn realized(&self) -> Vec<bool> {
        self.states.iter().map(|s| s.is_realized()).collect()
    }

    fn counts(&self) -> (Vec<usize>, Vec<usize>) {
        (
            self.knobs.iter().map(|k| k.starts.load(SeqCst)).collect(),
            self.knobs.iter().map(|k| k.stops.load(SeqCst)).collect(),
        )
    }

    fn disarm(&self) {
        for knobs in &self.knobs {
            knobs.start.store(OK, SeqCst);
            knobs.stop.store(OK, SeqCst);
        }
    }

    /// The names of ours among `names`.
    fn ours(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| n.starts_with(&self.prefix))
            .cloned()
            .collect()
    }

    fn reversed(&self, skip: Option<usize>) -> Vec<String> {
        (0..3)
            .rev()
            .filter(|i| Some(*i) != skip)
            .map(|i| self.names[i].clone())
            .collect()
    }

    /// Every start is matched by one stop, except the values that are there now.
    fn assert_balanced(&self, scenario: &str) {
        let (starts, stops) = self.counts();
        for i in 0..3 {
            let live = usize::from(self.states[i].is_realized());
            assert_eq!(
                starts[i],
                stops[i] + live,
                "{scenario}: {} started {} times, stopped {} times",
                self.names[i],
                starts[i],
                stops[i]
            );
        }
        assert_nothing_broken();
    }

    /// After the fault: without faults, the whole chain starts, reads, restarts and stops
    /// again as if nothing had happened.
    fn assert_usable(&self, scenario: &str) {
        self.disarm();
        for state in self.states.iter().rev() {
            state
                .force_close()
                .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        }
        assert_eq!(self.realized(), [false; 3], "{scenario}");
        let value = self
            .last()
            .try_get()
            .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        assert!(value.open.load(SeqCst), "{scenario}");
        drop(value);
        assert_eq!(self.realized(), [true; 3], "{scenario}");
        self.first()
            .restart()
            .unwrap_or_else(|e| panic!("{scenario}: restart: {e}"));
        assert_eq!(self.realized(), [true, false, false], "{scenario}");
        self.last().get();
        let report = lifecycle::stop().unwrap_or_else(|e| panic!("{scenario}: stop(): {e}"));
        assert_eq!(
            self.ours(&report.stopped),
            self.reversed(None),
            "{scenario}"
        );
        assert_eq!(self.realized(), [false; 3], "{scenario}");
        self.assert_balanced(scenario);
    }
}

#[test]
fn a_failing_or_panicking_start_at_any_position_leaves_its_dependencies_and_nothing_else() {
    let _serial = serial();
    for position in 0..3 {
        for kind in [FAIL, PANIC] {
            let scenario = format!("start {} at {}", kind_name(kind), POSITIONS[position]);
            let chain = Chain::new(&format!("start-{}-{position}", kind_name(kind)));
            chain.knobs[position].start.store(kind, SeqCst);
            let expected_realized: Vec<bool> = (0..3).map(|i| i < position).collect();
            let faulty = &chain.names[position];
            let innermost = match kind {
                FAIL => format!("state `{faulty}` failed to start: injected fault"),
                _ => format!("state `{faulty}` panicked while starting: injected fault"),
            };
            // Twice: a failed start is retried on the next use, and fails the same way.
            for attempt in 0..2 {
                let error = chain.last().try_get().unwrap_err().to_string();
                assert!(error.contains(&innermost), "{scenario} #{attempt}: {error}");
                assert_eq!(chain.realized(), expected_realized, "{scenario}");
                // `get` panics with the same story.
                let panic = std::panic::catch_unwind(|| {
                    chain.last().get();
                })
                .unwrap_err();
                let message = panic.downcast_ref::<String>().unwrap();
                assert!(message.contains(&innermost), "{scenario}: {message}");
            }
            // The dependencies started once and stay; nothing else started.
            let (starts, _) = chain.counts();
            let expected_starts: Vec<usize> = (0..3).map(|i| usize::from(i < position)).collect();
            assert_eq!(starts, expected_starts, "{scenario}");
            // The faulty state itself is usable at once when the fault goes away.
            chain.disarm();
            assert!(chain.states[position].try_get().is_ok(), "{scenario}");
            chain.assert_usable(&scenario);
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Trigger {
    StopAll,
    StopOne,
    Restart,
    ForceClose,
}

#[test]
fn a_failing_or_panicking_stop_or_drop_at_any_position_is_reported_and_recovered_from() {
    let _serial = serial();
    for position in 0..3 {
        for kind in [FAIL, PANIC, DROP_PANIC] {
            for trigger in [
                Trigger::StopAll,
                Trigger::StopOne,
                Trigger::Restart,
                Trigger::ForceClose,
            ] {
                let scenario = format!(
                    "stop {} at {} by {trigger:?}",
                    kind_name(kind),
                    POSITIONS[position]
                );
                let chain = Chain::new(&format!("stop-{kind}-{position}-{trigger:?}"));
                chain.last().get();
                chain.knobs[position].stop.store(kind, SeqCst);
                let faulty = chain.names[position].clone();
                let check_error = |error: &Error| match kind {
                    FAIL => assert!(
                        matches!(error, Error::Stop { state, .. } if *state == faulty),
                        "{scenario}: {error:?}"
                    ),
                    _ => assert!(
                        matches!(error, Error::StopPanicked { state, message }
                            if *state == faulty && message.starts_with("injected fault")),
                        "{scenario}: {error:?}"
                    ),
                };
                match trigger {
                    Trigger::StopAll => {
                        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
                            panic!("{scenario}: not StopAll")
                        };
                        // Every state was tried, in reverse order; only the faulty one failed.
                        assert_eq!(
                            chain.ours(&report.stopped),
                            chain.reversed(Some(position)),
                            "{scenario}"
                        );
                        assert_eq!(report.failed.len(), 1, "{scenario}: {report}");
                        assert_eq!(report.failed[0].0, faulty);
                        check_error(&report.failed[0].1);
                        assert_eq!(chain.realized(), [false; 3], "{scenario}");
                        assert_eq!(chain.counts().1, [1, 1, 1], "{scenario}");
                        // The faulty one says so until it is cleared, and so do its dependents.
                        let error = chain.states[position].try_get().unwrap_err();
                        assert!(
                            matches!(&error, Error::StopFailedEarlier { state, .. } if *state == faulty),
                            "{scenario}: {error}"
                        );
                        let error = chain.last().try_get().unwrap_err().to_string();
                        assert!(error.contains("force_close"), "{scenario}: {error}");
                        // A second stop() still reports it (it is not silently forgotten).
                        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
                            panic!("{scenario}: not StopAll")
                        };
                        assert_eq!(report.failed.len(), 1, "{scenario}: {report}");
                        assert!(matches!(
                            report.failed[0].1,
                            Error::StopFailedEarlier { .. }
                        ));
                    }
                    Trigger::StopOne => {
                        check_error(&chain.states[position].stop().unwrap_err());
                        let expected: Vec<bool> = (0..3).map(|i| i != position).collect();
                        assert_eq!(chain.realized(), expected, "{scenario}");
                        // Dependents keep their values; they were not stopped.
                        if position < 2 {
                            assert!(chain.last().get().open.load(SeqCst), "{scenario}");
                        }
                    }
                    Trigger::Restart => {
                        // Restarting `first` stops `last`, then `middle`, then `first`, and
                        // gives up at the faulty one.
                        check_error(&chain.first().restart().unwrap_err());
                        let expected: Vec<bool> = (0..3).map(|i| i < position).collect();
                        assert_eq!(chain.realized(), expected, "{scenario}");
                    }
                    Trigger::ForceClose => {
                        chain.states[position].force_close().unwrap();
                        assert!(!chain.states[position].is_realized(), "{scenario}");
                        // Cleared: it starts again at once, even with the stop still broken.
                        assert!(chain.states[position].try_get().is_ok(), "{scenario}");
                    }
                }
                chain.assert_balanced(&scenario);
                chain.assert_usable(&scenario);
            }
        }
    }
}

#[test]
fn a_value_whose_drop_panics_without_a_stop_function_is_a_failed_stop() {
    let _serial = serial();
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: Bomb dropped");
        }
    }
    let state = State::new("faults::bomb", || Ok(Bomb));
    state.get();
    let error = state.stop().unwrap_err();
    assert!(
        matches!(&error, Error::StopPanicked { message, .. } if message == "injected fault: Bomb dropped"),
        "{error}"
    );
    state.force_close().unwrap();
    state.get();
    state.force_close().unwrap(); // panics in Drop again, cleared anyway
    assert!(!state.is_realized());
    assert!(names(lifecycle::status()).is_empty());
}

#[test]
fn dropping_a_local_state_whose_stop_fails_does_not_leave_it_tracked() {
    let _serial = serial();
    for (kind, stopped_before) in [(FAIL, false), (PANIC, false), (FAIL, true), (PANIC, true)] {
        let knob = Arc::new(AtomicU8::new(kind));
        let on_stop = Arc::clone(&knob);
        let stops = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&stops);
        let state = State::new("faults::dropped-failing", || Ok(1)).with_stop(move |_| {
            counted.fetch_add(1, SeqCst);
            inject(&on_stop, "stop of faults::dropped-failing")
        });
        state.get();
        if stopped_before {
            // Failed earlier: unrealized, but waiting for a `force_close`.
            assert!(state.stop().is_err());
            assert!(!state.is_realized());
        }
        // Dropping a realized local state stops it; its stop fails (reported to watchers
        // and `tracing`), and nobody can call `force_close` on it any more.
        drop(state);
        assert_eq!(stops.load(SeqCst), 1, "{}", kind_name(kind));
        assert!(
            names(lifecycle::status()).is_empty(),
            "a dropped state is still tracked after its stop failed ({})",
            kind_name(kind)
        );
        lifecycle::stop().expect("nothing left to fail");
    }
}
