//! Fault injection: errors and panics in starts, stops, watch callbacks and a value's `Drop`
//! at every position of a chain of dependent states; a user mutex poisoned inside a start; a
//! stop that never returns. After every fault, every state stays usable: the library is never
//! poisoned and never hangs.
//!
//! Its own test binary, because `lifecycle::stop()` stops every state of the process; the
//! tests take turns through [`turn`].

mod common;

use common::Log;
use lifecycle::{BoxError, Error, Event, State};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Takes this binary's turn ([`common::serial`]: `stop()` is global, and injected panics are
/// not printed), and tells how many faults were injected so far when the test ends (run with
/// `--nocapture` to see it).
fn turn() -> Turn {
    Turn {
        _serial: common::serial(),
    }
}

struct Turn {
    _serial: MutexGuard<'static, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        eprintln!("faults injected so far: {}", INJECTED.load(SeqCst));
    }
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

/// The stop timeout of the tests with a stop that never returns: `stop()` gives up on it
/// after twice that. Generous enough that on a loaded machine the other states' stops (a few
/// microseconds of work) are never given up on too.
const STUCK_TIMEOUT: Duration = Duration::from_millis(300);

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
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
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
    let _turn = turn();
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
    let _turn = turn();
    let (open_gate, gate) = mpsc::channel::<()>();
    let stuck = stuck("faults::late-during-start", Some(gate));
    abandon(&stuck);
    stuck.state.force_close().unwrap();
    std::thread::scope(|s| {
        // Dropped if the test fails inside the scope: the waiting start then fails too.
        let open_gate = open_gate;
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
    let _turn = turn();
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
    let _turn = turn();
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
/// The stop function does not return until the chain's gate opens (stop faults only).
const STUCK: u8 = 4;

const POSITIONS: [&str; 3] = ["first", "middle", "last"];

fn kind_name(kind: u8) -> &'static str {
    match kind {
        FAIL => "error",
        PANIC => "panic",
        DROP_PANIC => "panic in Drop",
        STUCK => "never returns",
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
    /// Stuck stops wait here until it opens.
    gate: Gate,
}

/// A gate that stuck stops wait at.
#[derive(Debug, Default)]
struct Gate {
    open: Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .opened
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

/// Opens a gate when dropped: a test that fails while a thread of its scope waits at the
/// gate then fails instead of hanging in the scope's join.
struct OpenOnDrop<'a>(&'a Gate);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
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

fn inject_stop(knobs: &Knobs, what: &str) -> Result<(), BoxError> {
    if knobs.stop.load(SeqCst) == STUCK {
        INJECTED.fetch_add(1, SeqCst);
        knobs.gate.wait();
        return Ok(());
    }
    inject(&knobs.stop, what)
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
                inject_stop(&on_stop, &format!("stop of {stop_name}"))
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
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for kind in [FAIL, PANIC] {
            let scenario = format!("start {} at {at}", kind_name(kind));
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
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for kind in [FAIL, PANIC, DROP_PANIC] {
            for trigger in [
                Trigger::StopAll,
                Trigger::StopOne,
                Trigger::Restart,
                Trigger::ForceClose,
            ] {
                let scenario = format!("stop {} at {at} by {trigger:?}", kind_name(kind));
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
    let _turn = turn();
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
    let _turn = turn();
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

// ---------------------------------------------------------------------------------------
// Watch callbacks.
// ---------------------------------------------------------------------------------------

fn event_name(event: &Event) -> String {
    let debug = format!("{event:?}");
    debug.split('(').next().unwrap_or_default().to_owned()
}

/// Drives a chain through every event of the state at `position`: a failed start, a start,
/// a failed stop, a force_close, a restart and a stop of everything.
fn every_event(chain: &Chain, position: usize, scenario: &str) {
    chain.knobs[position].start.store(FAIL, SeqCst);
    assert!(chain.last().try_get().is_err(), "{scenario}");
    chain.disarm();
    chain.last().get();
    chain.knobs[position].stop.store(FAIL, SeqCst);
    assert!(chain.states[position].stop().is_err(), "{scenario}");
    chain.states[position].force_close().unwrap();
    chain.disarm();
    chain.assert_usable(scenario);
}

#[test]
fn a_panicking_watch_callback_at_any_event_and_position_changes_nothing() {
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for event in [
            "Starting",
            "Started",
            "StartFailed",
            "Stopping",
            "Stopped",
            "StopFailed",
        ] {
            let scenario = format!("watcher panics on {event} of {at}");
            let chain = Chain::new(&format!("watch-{event}-{position}"));
            let target = chain.names[position].clone();
            let fired = Arc::new(AtomicUsize::new(0));
            let count = Arc::clone(&fired);
            lifecycle::watch("faults::panicking", move |seen, info| {
                if info.name() == target && event_name(seen) == event {
                    count.fetch_add(1, SeqCst);
                    INJECTED.fetch_add(1, SeqCst);
                    panic!("injected fault: watcher on {event}");
                }
            });
            every_event(&chain, position, &scenario);
            assert!(lifecycle::unwatch("faults::panicking"));
            assert!(
                fired.load(SeqCst) > 0,
                "{scenario}: the watcher never fired"
            );
        }
    }
}

#[test]
fn a_watch_callback_may_use_the_library_during_any_event() {
    let _turn = turn();
    // A callback that reads states, lists them, prints them, and watches and unwatches
    // during every event of every state: nothing deadlocks, nothing changes.
    let chain = Arc::new(Chain::new("watch-reentrant"));
    let other = Arc::new(State::new("faults::watch-reentrant-other", || Ok(5)));
    let seen = Log::default();
    let (sink, chain_in, other_in) = (seen.clone(), Arc::clone(&chain), Arc::clone(&other));
    lifecycle::watch("faults::reentrant", move |event, info| {
        if !info.name().starts_with(&chain_in.prefix) {
            return;
        }
        let _ = lifecycle::status();
        let _ = lifecycle::graph().to_dot();
        let _ = format!("{:?}", chain_in.states[0].is_realized());
        let _ = chain_in
            .states
            .iter()
            .filter(|s| s.peek().is_some())
            .count();
        assert_eq!(*other_in.get(), 5);
        lifecycle::watch("faults::reentrant-inner", |_, _| {});
        lifecycle::unwatch("faults::reentrant-inner");
        sink.push(format!("{} {}", event_name(event), info.name()));
    });
    within(
        Duration::from_secs(20),
        "every event with a re-entrant watcher",
        {
            let chain = Arc::clone(&chain);
            move || {
                for position in 0..3 {
                    every_event(&chain, position, "re-entrant watcher");
                }
            }
        },
    );
    assert!(lifecycle::unwatch("faults::reentrant"));
    let seen = seen.take();
    for event in [
        "Starting",
        "Started",
        "StartFailed",
        "Stopping",
        "Stopped",
        "StopFailed",
    ] {
        assert!(
            seen.iter().any(|s| s.starts_with(event)),
            "{event}: {seen:?}"
        );
    }
    other.stop().unwrap();
}

// ---------------------------------------------------------------------------------------
// User mutexes poisoned inside starts and stops.
// ---------------------------------------------------------------------------------------

#[test]
fn a_user_mutex_poisoned_inside_a_start_or_stop_is_the_users_error_not_the_librarys() {
    let _turn = turn();
    let config = Arc::new(Mutex::new(String::from("v1")));
    let panic_in_start = Arc::new(AtomicBool::new(true));
    let panic_in_stop = Arc::new(AtomicBool::new(false));
    let (start_config, stop_config) = (Arc::clone(&config), Arc::clone(&config));
    let (start_knob, stop_knob) = (Arc::clone(&panic_in_start), Arc::clone(&panic_in_stop));
    let state = State::new("faults::poisoned", move || {
        let config = start_config.lock().map_err(|poisoned| {
            format!("config lock poisoned (it held {:?})", **poisoned.get_ref())
        })?;
        if start_knob.swap(false, SeqCst) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: panicked holding the config lock");
        }
        Ok(config.clone())
    })
    .with_stop(move |_| -> Result<(), BoxError> {
        let _config = stop_config
            .lock()
            .map_err(|_| "config lock poisoned while stopping")?;
        if stop_knob.swap(false, SeqCst) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: panicked in stop holding the config lock");
        }
        Ok(())
    });
    // The start panics holding the user's lock: the user's mutex is poisoned, not the state.
    let error = state.try_get().unwrap_err();
    assert!(matches!(error, Error::StartPanicked { .. }), "{error}");
    assert!(config.is_poisoned());
    // The next start sees the poisoned lock and says so, as an ordinary start error.
    let error = state.try_get().unwrap_err().to_string();
    assert!(
        error.contains("config lock poisoned (it held \"v1\")"),
        "{error}"
    );
    assert!(!state.is_realized());
    // The library is fine meanwhile.
    let unrelated = State::new("faults::poisoned-unrelated", || Ok(1));
    assert_eq!(*unrelated.get(), 1);
    unrelated.stop().unwrap();
    // Once the user clears the poison, it starts.
    config.clear_poison();
    assert_eq!(*state.get(), "v1");

    // The same in a stop: the stop panics holding the lock, the next stop reports it.
    panic_in_stop.store(true, SeqCst);
    assert!(matches!(
        state.stop().unwrap_err(),
        Error::StopPanicked { .. }
    ));
    state.force_close().unwrap();
    assert!(config.is_poisoned());
    // Poisoned: the start refuses (as written by the user); clear it and go on.
    assert!(state.try_get().is_err());
    config.clear_poison();
    state.get();
    // Poisoned elsewhere, seen by the stop: an ordinary stop error, cleared by force_close.
    std::thread::scope(|s| {
        s.spawn(|| {
            let _held = config.lock().unwrap();
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: a user thread panicked holding the config lock");
        })
        .join()
        .unwrap_err();
    });
    let error = state.stop().unwrap_err().to_string();
    assert!(
        error.contains("config lock poisoned while stopping"),
        "{error}"
    );
    state.force_close().unwrap();
    config.clear_poison();
    assert_eq!(*state.get(), "v1");
    state.stop().unwrap();
}

// ---------------------------------------------------------------------------------------
// Stop functions that never return.
// ---------------------------------------------------------------------------------------

#[test]
fn a_stop_that_never_returns_in_a_chain_blocks_nothing_else_and_reads_of_it_error() {
    let _turn = turn();
    let chain = Chain::new("stuck-middle");
    let middle = &chain.states[1];
    chain.last().get();
    chain.knobs[1].stop.store(STUCK, SeqCst);
    let timeout = STUCK_TIMEOUT;
    let _timeout = StopTimeout::set(timeout);

    let (report, waited_reader) = std::thread::scope(|s| {
        // A reader that arrives while stop() waits for the stuck stop: it waits too, then is
        // told, instead of waiting forever.
        let reader = s.spawn(|| {
            eventually("the stuck stop began", || {
                chain.knobs[1].stops.load(SeqCst) == 1
            });
            let began = Instant::now();
            let result = middle.try_get().map(|v| v.open.load(SeqCst));
            (result, began.elapsed())
        });
        let began = Instant::now();
        let report = lifecycle::stop();
        let elapsed = began.elapsed();
        assert!(elapsed >= timeout * 2, "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
        (report, reader.join().unwrap())
    });
    let Error::StopAll(report) = report.unwrap_err() else {
        panic!("not StopAll")
    };
    assert_eq!(chain.ours(&report.stopped), chain.reversed(Some(1)));
    assert!(
        matches!(&report.failed[..], [(name, Error::StopTimedOut { .. })] if *name == chain.names[1]),
        "{report}"
    );
    let (read, waited) = waited_reader;
    assert!(
        matches!(read, Err(Error::StopFailedEarlier { .. })),
        "the reader waiting during stop() got {read:?}"
    );
    assert!(waited < Duration::from_secs(15), "{waited:?}");

    // From now on, reads of it and of its dependents error at once.
    let began = Instant::now();
    assert!(matches!(
        middle.try_get(),
        Err(Error::StopFailedEarlier { .. })
    ));
    assert!(chain.last().try_get().is_err());
    assert!(matches!(
        middle.stop(),
        Err(Error::StopFailedEarlier { .. })
    ));
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    // What it does not depend on works.
    assert!(chain.first().get().open.load(SeqCst));

    // The stuck stop returns at last: the state ends up cleanly stopped, and usable.
    chain.knobs[1].gate.open();
    eventually("the late stop cleared the state", || {
        !names(lifecycle::status()).contains(&chain.names[1])
    });
    assert!(middle.get().open.load(SeqCst));
    chain.assert_usable("stuck middle");
}

#[test]
fn two_stops_that_never_return_are_both_reported_and_the_rest_stop() {
    let _turn = turn();
    let chain = Chain::new("stuck-two");
    chain.last().get();
    chain.knobs[0].stop.store(STUCK, SeqCst);
    chain.knobs[2].stop.store(STUCK, SeqCst);
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
    let began = Instant::now();
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(chain.ours(&report.stopped), [chain.names[1].clone()]);
    let failed: Vec<&str> = report.failed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(failed, [&chain.names[2], &chain.names[0]]);
    assert!(report
        .failed
        .iter()
        .all(|(_, e)| matches!(e, Error::StopTimedOut { .. })));
    chain.knobs[0].gate.open();
    chain.knobs[2].gate.open();
    eventually("both late stops cleared their states", || {
        chain.ours(&names(lifecycle::status())).is_empty()
    });
    chain.assert_usable("two stuck");
}

#[test]
fn a_direct_stop_that_never_returns_is_given_up_by_stop_all_and_its_readers_are_told() {
    let _turn = turn();
    let chain = Chain::new("stuck-direct");
    let middle = &chain.states[1];
    chain.last().get();
    chain.knobs[1].stop.store(STUCK, SeqCst);
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
    std::thread::scope(|s| {
        let _open_on_failure = OpenOnDrop(&chain.knobs[1].gate);
        // A plain `State::stop` runs on its caller's thread, unbounded: it sticks.
        let direct = s.spawn(|| middle.stop());
        eventually("the stuck stop began", || {
            chain.knobs[1].stops.load(SeqCst) == 1
        });
        // A reader waits for that stop...
        let (tell, told) = mpsc::channel();
        s.spawn(move || tell.send(middle.try_get().map(|v| v.open.load(SeqCst))));
        // ...until stop() gives up on it (it waits for the direct stop, bounded).
        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
            panic!("not StopAll")
        };
        assert_eq!(chain.ours(&report.stopped), chain.reversed(Some(1)));
        assert!(matches!(
            &report.failed[..],
            [(_, Error::StopTimedOut { .. })]
        ));
        let read = told
            .recv_timeout(Duration::from_secs(20))
            .expect("the reader was not told within 20 s");
        assert!(
            matches!(read, Err(Error::StopFailedEarlier { .. })),
            "{read:?}"
        );
        // When the direct stop returns, it finishes the job and succeeds.
        chain.knobs[1].gate.open();
        direct.join().unwrap().unwrap();
    });
    assert!(!chain
        .ours(&names(lifecycle::status()))
        .contains(&chain.names[1]));
    chain.assert_usable("stuck direct");
}

// ---------------------------------------------------------------------------------------
// Resources: systems, `defresource!` places and `close_on_shutdown`.
// ---------------------------------------------------------------------------------------

mod resources {
    use super::*;
    use lifecycle::prelude::*;

    /// How each of a system's three parts misbehaves, and what happened.
    #[derive(Default)]
    pub struct Plan {
        open: [AtomicU8; 3],
        close: [AtomicU8; 3],
        log: Log,
    }

    impl Plan {
        fn reset(&self) {
            for knob in self.open.iter().chain(&self.close) {
                knob.store(OK, SeqCst);
            }
            self.log.take();
        }
    }

    pub struct Part {
        position: usize,
        plan: Arc<Plan>,
    }

    impl Part {
        fn open(plan: &Arc<Plan>, position: usize) -> Result<Part, BoxError> {
            inject(&plan.open[position], &format!("open of part {position}"))?;
            plan.log.push(format!("open {position}"));
            Ok(Part {
                position,
                plan: Arc::clone(plan),
            })
        }
    }

    impl Resource for Part {
        fn close(self) -> Result<(), Error> {
            self.plan.log.push(format!("close {}", self.position));
            inject(
                &self.plan.close[self.position],
                &format!("close of part {}", self.position),
            )
            .map_err(Error::from)
            // `self` drops here: its `Drop` may panic.
        }
    }

    impl Drop for Part {
        fn drop(&mut self) {
            if self.plan.close[self.position].load(SeqCst) == DROP_PANIC
                && !std::thread::panicking()
            {
                INJECTED.fetch_add(1, SeqCst);
                panic!("injected fault: part {} panicked in Drop", self.position);
            }
        }
    }

    mk_system! {
        pub struct Faulty(plan: &Arc<Plan>) {
            pub a: Part = Part::open(plan, 0)?,
            pub b: Part = Part::open(plan, 1)?,
            pub c: Part = Part::open(plan, 2)?,
        }
    }

    const PARTS: [&str; 3] = ["Faulty.a", "Faulty.b", "Faulty.c"];

    fn opened_then_closed(opened: usize) -> Vec<String> {
        let mut log: Vec<String> = (0..opened).map(|i| format!("open {i}")).collect();
        log.extend((0..opened).rev().map(|i| format!("close {i}")));
        log
    }

    fn assert_usable(plan: &Arc<Plan>, scenario: &str) {
        plan.reset();
        let system = Faulty::start(plan).unwrap_or_else(|e| panic!("{scenario}: {e}"));
        system.close().unwrap_or_else(|e| panic!("{scenario}: {e}"));
        assert_eq!(plan.log.take(), opened_then_closed(3), "{scenario}");
    }

    #[test]
    fn a_failing_or_panicking_open_at_any_part_closes_the_earlier_ones_in_reverse() {
        let _turn = turn();
        let plan = Arc::new(Plan::default());
        for (position, part) in PARTS.iter().enumerate() {
            for kind in [FAIL, PANIC] {
                // Also with every earlier part failing to close during the rollback.
                for failing_closes in [false, true] {
                    let scenario = format!(
                        "open {} at {} (rollback closes fail: {failing_closes})",
                        kind_name(kind),
                        part
                    );
                    plan.reset();
                    plan.open[position].store(kind, SeqCst);
                    if failing_closes {
                        for earlier in 0..position {
                            plan.close[earlier].store(FAIL, SeqCst);
                        }
                    }
                    let outcome = std::panic::catch_unwind(|| Faulty::start(&plan));
                    match (kind, outcome) {
                        (FAIL, Ok(Err(error))) => {
                            let (start_error, close_errors) = match &error {
                                Error::Rollback {
                                    error,
                                    close_errors,
                                } => (&**error, close_errors.len()),
                                error => (error, 0),
                            };
                            assert!(
                                matches!(start_error, Error::Open { resource, .. } if resource == *part),
                                "{scenario}: {error:?}"
                            );
                            let expected = if failing_closes { position } else { 0 };
                            assert_eq!(close_errors, expected, "{scenario}: {error:?}");
                        }
                        (PANIC, Err(payload)) => {
                            let message = payload.downcast_ref::<String>().unwrap();
                            assert!(message.starts_with("injected fault"), "{scenario}");
                        }
                        (_, outcome) => panic!("{scenario}: {:?}", outcome.map(|r| r.err())),
                    }
                    assert_eq!(plan.log.take(), opened_then_closed(position), "{scenario}");
                    assert_usable(&plan, &scenario);
                }
            }
        }
    }

    #[test]
    fn a_failing_or_panicking_close_at_any_part_still_closes_every_part() {
        let _turn = turn();
        let plan = Arc::new(Plan::default());
        for (position, part) in PARTS.iter().enumerate() {
            for kind in [FAIL, PANIC, DROP_PANIC] {
                for by_drop in [false, true] {
                    let scenario = format!(
                        "close {} at {} by {}",
                        kind_name(kind),
                        part,
                        if by_drop { "drop" } else { "close()" }
                    );
                    plan.reset();
                    let system = Faulty::start(&plan).unwrap();
                    plan.close[position].store(kind, SeqCst);
                    if by_drop {
                        // Dropping closes in reverse and reports failures to `tracing`; a
                        // panicking close never escapes the destructor.
                        std::panic::catch_unwind(AssertUnwindSafe(|| drop(system)))
                            .unwrap_or_else(|_| panic!("{scenario}: drop panicked"));
                    } else {
                        let error = system.close().unwrap_err();
                        let resource = match &error {
                            Error::Close { resource, .. } => resource,
                            Error::ClosePanicked { resource, message } => {
                                assert!(message.starts_with("injected fault"), "{scenario}");
                                resource
                            }
                            other => panic!("{scenario}: {other:?}"),
                        };
                        assert_eq!(resource, part, "{scenario}");
                    }
                    let mut expected = opened_then_closed(3);
                    expected.drain(..3);
                    let closes: Vec<String> = plan
                        .log
                        .take()
                        .into_iter()
                        .filter(|l| l.starts_with("close"))
                        .collect();
                    assert_eq!(closes, expected, "{scenario}");
                    assert_usable(&plan, &scenario);
                }
            }
        }
    }

    use std::panic::AssertUnwindSafe;

    fn failing_state(name: &'static str, stop: Arc<AtomicU8>) -> Result<State<u32>, Error> {
        let state = State::new(name, || Ok(1))
            .with_stop(move |_| inject(&stop, &format!("stop of {name}")));
        state.try_get().map(drop)?;
        Ok(state)
    }

    mk_system! {
        pub struct WithState(plan: &Arc<Plan>, stop: &Arc<AtomicU8>) {
            pub db: State<u32> = failing_state("faults::system-db", Arc::clone(stop))?,
            pub server: Part = Part::open(plan, 0)?,
        }
    }

    #[test]
    fn a_state_in_a_system_whose_stop_fails_is_reported_and_not_left_tracked() {
        let _turn = turn();
        let plan = Arc::new(Plan::default());
        for kind in [FAIL, PANIC] {
            let stop = Arc::new(AtomicU8::new(OK));
            let system = WithState::start(&plan, &stop).unwrap();
            assert_eq!(names(lifecycle::status()), ["faults::system-db"]);
            stop.store(kind, SeqCst);
            let error = system.close().unwrap_err().to_string();
            assert!(error.contains("faults::system-db"), "{error}");
            assert!(error.contains("injected fault"), "{error}");
            assert_eq!(plan.log.take(), ["open 0", "close 0"]);
            assert!(
                names(lifecycle::status()).is_empty(),
                "the system's state is gone with the system"
            );
            lifecycle::stop().unwrap();
        }
    }

    /// A `defresource!` place's value; its close fails or panics on command.
    pub struct Server {
        close: Arc<AtomicU8>,
    }

    impl Resource for Server {
        fn close(self) -> Result<(), Error> {
            inject(&self.close, "close of faults::SERVER").map_err(Error::from)
        }
    }

    defresource!(SERVER: Server);

    #[test]
    fn a_place_whose_close_fails_in_stop_all_is_reported_and_can_be_defined_again() {
        let _turn = turn();
        for kind in [FAIL, PANIC] {
            let close = Arc::new(AtomicU8::new(kind));
            let knob = Arc::clone(&close);
            SERVER
                .define(move || Ok::<_, Error>(Server { close: knob }))
                .unwrap();
            let other = State::new("faults::next-to-server", || Ok(1));
            other.get();
            let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
                panic!("not StopAll")
            };
            assert_eq!(report.stopped, ["faults::next-to-server"], "{report}");
            assert_eq!(report.failed.len(), 1, "{report}");
            assert!(report.failed[0].0.ends_with("SERVER"), "{report}");
            assert!(!SERVER.is_defined());
            // The place is usable again: define clears the failure first.
            close.store(OK, SeqCst);
            let knob = Arc::clone(&close);
            SERVER
                .define(move || Ok::<_, Error>(Server { close: knob }))
                .unwrap();
            assert!(SERVER.is_defined());
            SERVER.close().unwrap();
            lifecycle::stop().unwrap();
        }
    }

    #[test]
    fn a_close_on_shutdown_resource_whose_close_panics_is_reported_and_the_rest_stop() {
        let _turn = turn();
        let closed = Log::default();
        let log = closed.clone();
        let before = State::new("faults::before-shutdown-resource", || Ok(1));
        before.get();
        lifecycle::close_on_shutdown(closeable((), |()| -> Result<(), Error> {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: close on shutdown")
        }));
        lifecycle::close_on_shutdown(closeable((), move |()| log.push("closed")));
        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
            panic!("not StopAll")
        };
        assert_eq!(report.stopped.len(), 2, "{report}");
        assert_eq!(report.stopped[1], "faults::before-shutdown-resource");
        assert!(matches!(
            &report.failed[..],
            [(_, Error::ClosePanicked { message, .. })] if message == "injected fault: close on shutdown"
        ));
        assert_eq!(closed.take(), ["closed"]);
        assert!(names(lifecycle::status()).is_empty());
        lifecycle::stop().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// User code the library calls besides start and stop: an error's `Display`.
// ---------------------------------------------------------------------------------------

/// An error whose `Display` panics.
#[derive(Debug)]
struct Unprintable;

impl std::fmt::Display for Unprintable {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        INJECTED.fetch_add(1, SeqCst);
        panic!("injected fault: Display panicked")
    }
}

impl std::error::Error for Unprintable {}

#[test]
fn a_stop_error_whose_display_panics_does_not_leave_the_state_stuck() {
    let _turn = turn();
    let failing = Arc::new(AtomicBool::new(true));
    let knob = Arc::clone(&failing);
    let state = Arc::new(
        State::new("faults::unprintable", || Ok(1)).with_stop(move |_| {
            if knob.load(SeqCst) {
                Err::<(), BoxError>(Box::new(Unprintable))
            } else {
                Ok(())
            }
        }),
    );
    state.get();
    // The stop fails; whether `stop` returns the error or panics printing it, it must not
    // leave the state half-stopped.
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.stop().is_ok()));
    assert!(!matches!(stopped, Ok(true)), "the stop function failed");
    let reader = Arc::clone(&state);
    let read = within(
        Duration::from_secs(20),
        "a read after the stop",
        move || reader.try_get().map(|v| *v).is_ok(),
    );
    assert!(!read, "the value is gone until force_close");
    failing.store(false, SeqCst);
    state.force_close().unwrap();
    assert_eq!(*state.get(), 1);
    state.stop().unwrap();
    assert!(names(lifecycle::status()).is_empty());
}

#[test]
fn an_async_stop_error_whose_display_panics_does_not_leave_the_state_stuck() {
    let _turn = turn();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let failing = Arc::new(AtomicBool::new(true));
        let knob = Arc::clone(&failing);
        let state = Arc::new(
            lifecycle::AsyncState::new("faults::async-unprintable", || async { Ok::<_, Error>(1) })
                .with_stop(move |_| {
                    let failing = knob.load(SeqCst);
                    async move {
                        if failing {
                            Err::<(), BoxError>(Box::new(Unprintable))
                        } else {
                            Ok(())
                        }
                    }
                }),
        );
        state.get().await;
        let stopping = Arc::clone(&state);
        let stopped = tokio::spawn(async move { stopping.stop().await.is_ok() }).await;
        assert!(!matches!(stopped, Ok(true)), "the stop function failed");
        let read = tokio::time::timeout(Duration::from_secs(20), state.try_get())
            .await
            .expect("a read after the stop did not finish within 20 s: deadlock");
        assert!(read.is_err(), "the value is gone until force_close");
        failing.store(false, SeqCst);
        state.force_close().await.unwrap();
        assert_eq!(*state.get().await, 1);
        state.stop().await.unwrap();
    });
    assert!(names(lifecycle::status()).is_empty());
}
