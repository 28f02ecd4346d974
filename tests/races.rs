//! Reproductions of issue 11: races between concurrent stops, restarts and readers, with real
//! threads, through the public API only. One test per scenario of the issue (and an async
//! twin of scenario 2); the comment above each says what it sets up and which rule it checks.
//!
//! Every wait is bounded (`recv_timeout`, `stop_within`, a short stop timeout), so a test that
//! meets the bug fails with an assertion instead of hanging. Each test collects what it saw,
//! cleans up (no state is left realized for the next test, the stop timeout is restored), and
//! only then asserts, listing every broken rule at once.
//!
//! Its own test binary, because `lifecycle::stop()` and the stop timeout are process-wide;
//! the tests take turns through [`common::serial`].

mod common;

use common::{runtime, serial, Log, StopTimeout};
use lifecycle::{AsyncState, Event, State};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The bound on waits that succeed at once when the library is right.
const SOON: Duration = Duration::from_secs(1);
/// The bound on waits for threads that finish after a stop or start completes.
const LATER: Duration = Duration::from_secs(8);

/// Takes this binary's turn ([`serial`]) with the stop timeout set to `stop_timeout` until
/// the turn ends (the timeout is restored first: the tuple drops in order).
fn turn(stop_timeout: Duration) -> (StopTimeout, MutexGuard<'static, ()>) {
    let serial = serial();
    (StopTimeout::set(stop_timeout), serial)
}

/// A value that logs its stop and its drop, to check that every value is stopped and
/// dropped exactly once.
struct Value {
    id: usize,
    log: Log,
}

impl Drop for Value {
    fn drop(&mut self) {
        self.log.push(format!("drop {}", self.id));
    }
}

/// A state whose starts give values 0, 1, 2, … and log `start N`; its stop logs `stop N`.
fn counted(name: &'static str, log: &Log) -> State<Value> {
    let starts = AtomicUsize::new(0);
    let (on_start, on_stop) = (log.clone(), log.clone());
    State::new(name, move || {
        let id = starts.fetch_add(1, SeqCst);
        on_start.push(format!("start {id}"));
        Ok(Value {
            id,
            log: on_start.clone(),
        })
    })
    .with_stop(move |value: Value| on_stop.push(format!("stop {}", value.id)))
}

/// The rule "every value is stopped exactly once (and dropped exactly once)", checked on
/// the lines of a [`counted`] state's log.
fn each_value_stopped_once(lines: &[String], problems: &mut Vec<String>) {
    let count = |line: String| lines.iter().filter(|l| **l == line).count();
    for start in lines.iter().filter(|l| l.starts_with("start ")) {
        let id = &start["start ".len()..];
        for what in ["stop", "drop"] {
            let times = count(format!("{what} {id}"));
            if times != 1 {
                problems.push(format!(
                    "value {id}: {what} ran {times} times (log: {lines:?})"
                ));
            }
        }
    }
}

/// The rule "`status()` and `is_realized()` agree", at a moment when nothing is starting or
/// stopping.
fn status_agrees(name: &str, is_realized: bool, when: &str, problems: &mut Vec<String>) {
    let listed = lifecycle::status().iter().any(|info| info.name() == name);
    if listed != is_realized {
        problems.push(format!(
            "{when}: status() lists `{name}`: {listed}, but is_realized() is {is_realized}"
        ));
    }
}

/// Tells when the state `name` begins a stop (`Event::Stopping`); unwatches when dropped.
struct WhenStopping {
    key: String,
    events: Receiver<()>,
}

impl WhenStopping {
    fn watch(name: &'static str) -> Self {
        let key = format!("races-{name}");
        let (tx, events) = mpsc::channel();
        let tx = Mutex::new(tx);
        lifecycle::watch(key.clone(), move |event, state| {
            if matches!(event, Event::Stopping) && state.name() == name {
                let _ = tx.lock().unwrap_or_else(PoisonError::into_inner).send(());
            }
        });
        Self { key, events }
    }

    fn wait(&self) -> bool {
        self.events.recv_timeout(SOON).is_ok()
    }
}

impl Drop for WhenStopping {
    fn drop(&mut self) {
        lifecycle::unwatch(&self.key);
    }
}

/// Runs `f` on a new thread; its result arrives on the returned channel.
fn spawn<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Receiver<R> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// The rule "`what` returned in time, and succeeded".
fn returned_ok<T, E: std::fmt::Display>(
    what: &str,
    answer: Result<Result<T, E>, RecvTimeoutError>,
    problems: &mut Vec<String>,
) {
    match answer {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => problems.push(format!("{what} failed: {error}")),
        Err(_) => problems.push(format!("{what} did not return")),
    }
}

/// The setup of scenarios 1 and 5: thread R holds a guard of the [`counted`] state S while
/// thread T stops it. Keeps S's log, a watch on its stops, and the broken rules seen so far.
struct Contended {
    name: &'static str,
    log: Log,
    s: Arc<State<Value>>,
    stopping: WhenStopping,
    problems: Vec<String>,
}

impl Contended {
    fn new(name: &'static str) -> Self {
        let log = Log::default();
        Self {
            name,
            s: Arc::new(counted(name, &log)),
            log,
            stopping: WhenStopping::watch(name),
            problems: Vec::new(),
        }
    }

    /// Thread R: reads S (the test checks that it reads value 0), waits until the test sends
    /// on the returned sender (5 s at most), runs `then` with its guard still held, and lets
    /// go; `then`'s outcome arrives on the returned receiver.
    fn hold_on_thread<R: Send + 'static>(
        &self,
        then: impl FnOnce(&State<Value>) -> R + Send + 'static,
    ) -> (mpsc::Sender<()>, Receiver<R>) {
        let (held_tx, held) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let s = Arc::clone(&self.s);
        let reader = spawn(move || {
            let guard = s.get();
            let _ = held_tx.send(guard.id);
            let _ = release_rx.recv_timeout(Duration::from_secs(5));
            let outcome = then(&s);
            drop(guard);
            outcome
        });
        assert_eq!(held.recv_timeout(SOON), Ok(0), "R reads value 0");
        (release, reader)
    }

    /// Thread T: runs `stop` on S on a new thread, and checks that the stop begins.
    fn stop_on_thread(
        &mut self,
        stop: impl FnOnce(&State<Value>) -> Result<(), lifecycle::Error> + Send + 'static,
    ) -> Receiver<Result<(), lifecycle::Error>> {
        let s = Arc::clone(&self.s);
        let stopper = spawn(move || stop(&s));
        if !self.stopping.wait() {
            self.problems.push("T's stop did not begin".to_owned());
        }
        stopper
    }

    /// The rule "T's stop succeeds once R lets go".
    fn stopped(&mut self, stopper: &Receiver<Result<(), lifecycle::Error>>) {
        returned_ok("T's stop", stopper.recv_timeout(LATER), &mut self.problems);
    }

    /// The rule "`status()` and `is_realized()` agree" on S, `when` nothing starts or stops.
    fn status_agrees(&mut self, when: &str) {
        status_agrees(self.name, self.s.is_realized(), when, &mut self.problems);
    }

    /// Cleans up with `cleanup` (it stops a value a late reader started), then checks that
    /// `status()` agrees and that every value was stopped exactly once.
    fn clean_up(&mut self, cleanup: impl FnOnce(&State<Value>) -> Result<(), lifecycle::Error>) {
        let cleanup = cleanup(&self.s);
        self.status_agrees("after the cleanup");
        each_value_stopped_once(&self.log.take(), &mut self.problems);
        if let Err(error) = cleanup {
            self.problems.push(format!("the cleanup failed: {error}"));
        }
    }
}

/// The rule "the cleanup succeeded": the stops of the test's two states, dependent first.
fn cleaned_up(
    cleanup: (Result<(), lifecycle::Error>, Result<(), lifecycle::Error>),
    problems: &mut Vec<String>,
) {
    if !matches!(cleanup, (Ok(()), Ok(()))) {
        problems.push(format!("the cleanup failed: {cleanup:?}"));
    }
}

fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "broken rules:\n  {}",
        problems.join("\n  ")
    );
}

// Scenario 1: a teardown that gives up hijacks another thread's stop.
//
// Thread R holds a guard of S (value 0). Thread T calls `S.stop_within(5 s)` and waits for R.
// Meanwhile `lifecycle::stop()`, with a stop timeout of 100 ms, hands S to its stop worker,
// which only queues behind T's stop, gives up after its bound and marks S failed — although
// the stop it abandons is T's. The user then calls `force_close()`, as the error says, and
// another thread reads S; then R lets go.
//
// Rules: a stop that gives up marks failed only the stop it owns; `force_close` never clears
// a slot whose value another stop still holds; every value is stopped (and dropped) exactly
// once; T's stop succeeds once R lets go; `status()` and `is_realized()` agree afterwards.
#[test]
fn a_teardown_that_gives_up_does_not_hijack_another_threads_stop() {
    let _turn = turn(Duration::from_millis(100));
    let mut scene = Contended::new("races/1/s");
    let s = Arc::clone(&scene.s);

    // R: holds value 0 until told to let go (or for 5 s at most).
    let (release, reader) = scene.hold_on_thread(|_| ());

    // T: stops S, waiting up to 5 s for R.
    let stopper = scene.stop_on_thread(|s| s.stop_within(Duration::from_secs(5)));

    // The teardown gives up on S; the user force-closes it (on a thread of its own: a
    // `force_close` that waits for T's stop must not keep this thread from releasing R);
    // another thread reads it.
    let teardown = lifecycle::stop();
    let force_close = {
        let s = Arc::clone(&s);
        spawn(move || s.force_close())
    };
    let mut forced = force_close.recv_timeout(Duration::from_millis(300)).ok();
    let next_reader = {
        let s = Arc::clone(&s);
        spawn(move || s.try_get().map(|value| value.id))
    };
    thread::sleep(Duration::from_millis(100));
    let _ = release.send(());

    scene.stopped(&stopper);
    if forced.is_none() {
        forced = force_close.recv_timeout(LATER).ok();
    }
    if forced.is_none() {
        scene.problems.push("force_close did not return".to_owned());
    }
    let next_read = next_reader.recv_timeout(LATER);
    if next_read.is_err() {
        scene
            .problems
            .push("the next reader did not return".to_owned());
    }
    if reader.recv_timeout(LATER).is_err() {
        scene.problems.push("R did not finish".to_owned());
    }
    scene.status_agrees("after T's stop");

    // Clean up (a value started by the next reader is stopped here), then check.
    scene.clean_up(State::force_close);
    eprintln!("teardown: {teardown:?}\nforce_close: {forced:?}\nnext read: {next_read:?}");
    assert_none(&scene.problems);
}

/// The dependent of scenario 2: its start reads `a`, tells `read`, and waits for `go`
/// before it finishes with the id of the value of `a` it read.
fn slow_dependent(a: &Arc<State<Value>>, read: mpsc::Sender<()>, go: Receiver<()>) -> State<usize> {
    let a = Arc::clone(a);
    let read = Mutex::new(read);
    let go = Mutex::new(go);
    State::new("races/2/b", move || {
        let seen = a.get().id;
        let _ = read.lock().unwrap_or_else(PoisonError::into_inner).send(());
        let _ = go
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv_timeout(Duration::from_secs(3));
        Ok(seen)
    })
}

/// The rule of scenario 2: if the dependent is realized, it holds data of `a`'s live value.
fn dependent_is_current(b: Option<usize>, a: Option<usize>, lines: &[String]) -> Option<String> {
    let b = b?;
    (Some(b) != a).then(|| {
        format!("B is realized with data of A's value {b}, but A's value is {a:?} (log: {lines:?})")
    })
}

// Scenario 2: `restart()` leaves a dependent built from the old value.
//
// B's start reads A (value 0; the dependency is recorded) and is still running when another
// thread calls `A.restart()`. Today `restart()` stops only dependents that are realized, so
// it skips B, stops value 0 and starts value 1; B then finishes with data of value 0.
//
// Rule: after `restart()` returns (and B's start finished), no realized state holds data of a
// stopped value: B is either unrealized or built from A's live value.
#[test]
fn restart_does_not_leave_a_dependent_built_from_the_old_value() {
    let _turn = turn(Duration::from_secs(2));
    let log = Log::default();
    let a = Arc::new(counted("races/2/a", &log));
    let (read_tx, read) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let b = Arc::new(slow_dependent(&a, read_tx, go_rx));
    let mut problems = Vec::new();

    let b_start = {
        let b = Arc::clone(&b);
        spawn(move || b.try_get().map(|value| *value))
    };
    assert!(read.recv_timeout(SOON).is_ok(), "B's start reads A");
    let restart = {
        let a = Arc::clone(&a);
        spawn(move || a.restart())
    };
    // A restart that waits for B's start gets B going; one that does not has returned by now.
    thread::sleep(Duration::from_millis(200));
    let _ = go.send(());

    returned_ok("restart", restart.recv_timeout(LATER), &mut problems);
    let b_result = b_start.recv_timeout(LATER);
    if b_result.is_err() {
        problems.push("B's start did not return".to_owned());
    }
    let b_value = b.peek().map(|value| *value);
    let a_value = a.peek().map(|value| value.id);
    let lines = log.take();
    problems.extend(dependent_is_current(b_value, a_value, &lines));

    cleaned_up((b.stop(), a.stop()), &mut problems);
    eprintln!("B's start: {b_result:?}");
    assert_none(&problems);
}

// Scenario 2, async: the same with async states, tasks of a multi-threaded runtime instead of
// threads, and `AsyncState::restart`.
#[test]
fn async_restart_does_not_leave_a_dependent_built_from_the_old_value() {
    let _turn = turn(Duration::from_secs(2));
    let runtime = runtime();
    let problems = runtime.block_on(async_restart_scenario());
    assert_none(&problems);
}

async fn async_restart_scenario() -> Vec<String> {
    use tokio::sync::Notify;
    use tokio::time::{sleep, timeout};

    let log = Log::default();
    let a = {
        let starts = Arc::new(AtomicUsize::new(0));
        let (on_start, on_stop) = (log.clone(), log.clone());
        Arc::new(
            AsyncState::new("races/2/async-a", move || {
                let id = starts.fetch_add(1, SeqCst);
                let log = on_start.clone();
                async move {
                    log.push(format!("start {id}"));
                    Ok::<_, lifecycle::BoxError>(Value { id, log })
                }
            })
            .with_stop(move |value: Value| {
                let log = on_stop.clone();
                async move {
                    // Moves the whole value in (not only its id), so that it drops after this.
                    let value = value;
                    log.push(format!("stop {}", value.id));
                }
            }),
        )
    };
    let (read, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let b = {
        let (a, read, go) = (Arc::clone(&a), Arc::clone(&read), Arc::clone(&go));
        Arc::new(AsyncState::new("races/2/async-b", move || {
            let (a, read, go) = (Arc::clone(&a), Arc::clone(&read), Arc::clone(&go));
            async move {
                let seen = a.get().await.id;
                read.notify_one();
                let _ = timeout(Duration::from_secs(3), go.notified()).await;
                Ok::<_, lifecycle::BoxError>(seen)
            }
        }))
    };
    let mut problems = Vec::new();

    let b_start = {
        let b = Arc::clone(&b);
        tokio::spawn(async move { b.try_get().await.map(|value| *value) })
    };
    if timeout(SOON, read.notified()).await.is_err() {
        problems.push("B's start did not read A".to_owned());
    }
    let restart = {
        let a = Arc::clone(&a);
        tokio::spawn(async move { a.restart().await })
    };
    sleep(Duration::from_millis(200)).await;
    go.notify_one();

    match timeout(LATER, restart).await {
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(error))) => problems.push(format!("restart failed: {error}")),
        Ok(Err(join)) => problems.push(format!("restart panicked: {join}")),
        Err(_) => problems.push("restart did not return".to_owned()),
    }
    let b_result = timeout(LATER, b_start).await;
    if b_result.is_err() {
        problems.push("B's start did not return".to_owned());
    }
    let b_value = b.peek().map(|value| *value);
    let a_value = a.peek().map(|value| value.id);
    let lines = log.take();
    problems.extend(dependent_is_current(b_value, a_value, &lines));

    cleaned_up((b.stop().await, a.stop().await), &mut problems);
    eprintln!("B's start: {b_result:?}");
    problems
}

// Scenario 3: `lifecycle::stop()` ignores the caller's bindings.
//
// A test binds a fake X (`X.bind("fake")`), uses Y (whose start and stop read X), and tears
// down with `lifecycle::stop()` while the binding is in place. Today Y's stop function runs on
// the stop worker, where the binding does not apply: it reads the real X, which the teardown
// starts for it.
//
// Rules: each stop function runs in the caller's binding scope (Y's stop sees the fake), and
// a teardown never starts a state (X's real start never runs).
#[test]
fn stop_all_runs_stop_functions_under_the_callers_bindings() {
    let _turn = turn(Duration::from_secs(2));
    let real_starts = Arc::new(AtomicUsize::new(0));
    let x = {
        let real_starts = Arc::clone(&real_starts);
        Arc::new(State::new("races/3/x", move || {
            real_starts.fetch_add(1, SeqCst);
            Ok("real")
        }))
    };
    let seen_by_stop = Log::default();
    let y = {
        let (x_in_start, x_in_stop) = (Arc::clone(&x), Arc::clone(&x));
        let seen = seen_by_stop.clone();
        State::new("races/3/y", move || Ok(*x_in_start.get()))
            .with_stop(move |_: &'static str| seen.push(*x_in_stop.get()))
    };
    let mut problems = Vec::new();

    let teardown = {
        let _fake = x.bind("fake");
        let started_with = *y.get();
        if started_with != "fake" {
            problems.push(format!("Y started with {started_with:?}"));
        }
        lifecycle::stop()
    };

    let seen = seen_by_stop.take();
    if seen != ["fake"] {
        problems.push(format!("Y's stop read X as {seen:?}, not the bound fake"));
    }
    let starts = real_starts.load(SeqCst);
    if starts != 0 {
        problems.push(format!("the teardown ran X's real start {starts} time(s)"));
    }
    if y.is_realized() {
        problems.push("Y is still realized after the teardown".to_owned());
    }

    cleaned_up((y.stop(), x.stop()), &mut problems);
    eprintln!("teardown: {teardown:?}");
    assert_none(&problems);
}

// Scenario 4: a stop function that calls `lifecycle::stop()` waits for itself.
//
// `X.stop()` runs on an ordinary thread; X's stop function calls `lifecycle::stop()`, which
// today hands X to the stop worker, waits twice the stop timeout for the very stop that is
// running it, and reports X as timed out. Z, another realized state, must still stop.
//
// Rules: the nested `stop()` returns promptly (stop timeout 2 s; it must take < 1 s), skips X
// (already stopping on this thread) and stops the rest; X's own stop then succeeds.
#[test]
fn a_stop_function_calling_stop_all_does_not_wait_for_itself() {
    let _turn = turn(Duration::from_secs(2));
    let log = Log::default();
    let z = {
        let log = log.clone();
        State::new("races/4/z", || Ok(())).with_stop(move |()| log.push("stop z"))
    };
    let (nested_tx, nested) = mpsc::channel();
    let x = {
        let nested_tx = Mutex::new(nested_tx);
        Arc::new(State::new("races/4/x", || Ok(())).with_stop(move |()| {
            let began = Instant::now();
            let report = lifecycle::stop();
            let report = format!("{report:?}");
            let _ = nested_tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .send((began.elapsed(), report));
        }))
    };
    z.get();
    x.get();
    let mut problems = Vec::new();

    let x_stop = {
        let x = Arc::clone(&x);
        spawn(move || x.stop())
    };
    returned_ok("X's stop", x_stop.recv_timeout(LATER), &mut problems);
    match nested.recv_timeout(SOON) {
        Ok((took, report)) => {
            if took >= SOON {
                problems.push(format!("the nested stop() took {took:?}: {report}"));
            }
        }
        Err(_) => problems.push("X's stop function did not finish".to_owned()),
    }
    let stopped_z = log.take();
    if stopped_z != ["stop z"] {
        problems.push(format!("Z's stop ran as {stopped_z:?}"));
    }
    for (name, realized) in [
        ("races/4/x", x.is_realized()),
        ("races/4/z", z.is_realized()),
    ] {
        if realized {
            problems.push(format!("{name} is still realized"));
        }
        status_agrees(name, realized, "after the stops", &mut problems);
    }

    cleaned_up((x.stop(), z.stop()), &mut problems);
    assert_none(&problems);
}

// Scenario 5: a thread that holds a guard is stalled reading again while another thread stops.
//
// Thread R holds a guard of S and reads S again (a nested helper calling `CONFIG.get()`)
// while thread T's `S.stop()` waits for R's guard. Today the second read waits until T's stop
// times out (1 s here), and T's stop then fails.
//
// Rules: a thread that already holds a guard reads again without waiting for a stop that
// waits on it (within 200 ms, and it sees the same value); T's stop completes once R lets go;
// the value is stopped exactly once.
#[test]
fn a_guard_holder_reads_again_while_another_thread_stops() {
    let _turn = turn(Duration::from_secs(1));
    let mut scene = Contended::new("races/5/s");

    // R: reads S, waits for T's stop to begin, reads S again, then lets go of both guards.
    let (go, reader) = scene.hold_on_thread(|s| {
        let began = Instant::now();
        let second = s.try_get().map(|value| value.id);
        (began.elapsed(), second)
    });
    let stopper = scene.stop_on_thread(State::stop);
    // `Stopping` is announced just before the stop shuts the door on new readers (from then
    // on S is not realized); give it that moment, bounded.
    let shut = Instant::now();
    while scene.s.is_realized() && shut.elapsed() < Duration::from_millis(200) {
        thread::sleep(Duration::from_millis(1));
    }
    let _ = go.send(());

    let problems = &mut scene.problems;
    match reader.recv_timeout(LATER) {
        Ok((took, second)) => {
            if took >= Duration::from_millis(200) {
                problems.push(format!("R's second read took {took:?}"));
            }
            if !matches!(second, Ok(0)) {
                problems.push(format!("R's second read gave {second:?}, not value 0"));
            }
        }
        Err(_) => problems.push("R did not finish".to_owned()),
    }
    scene.stopped(&stopper);

    scene.clean_up(State::stop);
    assert_none(&scene.problems);
}
