//! Stress with real threads, beyond `stress.rs`: several states with dependencies, readers
//! holding guards and owned handles (some moved to other threads), while other threads stop,
//! restart, force-close and stop everything; `bind` and `get` on many threads; `watch` and
//! `unwatch` racing the events they watch.
//!
//! Checked: every start is matched by exactly one stop; no value is used after its stop (each
//! carries an `open` flag its stop clears, checked on every read and again before the guard is
//! dropped); a state's start never sees a stopped dependency; reads of one thread never go
//! back to an older value; nothing errors.
//!
//! `STRESS_SECS` sets the length of the main test (2 s by default). Its own test binary,
//! because `lifecycle::stop()` is global; the tests take turns.

mod common;
use common::stress_seconds as seconds;

use common::serial;
use lifecycle::{Event, Owned, State};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), seeded per thread: runs are repeatable in what
/// each thread tries, if not in how the threads interleave.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Reads each reader does at least, past the deadline if need be.
const MIN_READS: usize = 25;

/// A reader's rounds: until `deadline`, but at least [`MIN_READS`] however slow the machine
/// (valgrind, Miri), so every reader reads some.
fn rounds(deadline: Instant) -> impl Iterator<Item = usize> {
    (0..).take_while(move |&round| round < MIN_READS || Instant::now() < deadline)
}

/// What every state's value carries.
struct Value {
    /// Which start of its state made it (1, 2, ...): only grows.
    serial: usize,
    /// The serial again, on the heap: a read after the value was dropped is a use after free
    /// that valgrind reports (`.ci/valgrind`), not just a stale flag.
    heap: Box<usize>,
    open: AtomicBool,
}

impl Value {
    fn check(&self, what: &str, tally: &Tally) {
        if !self.open.load(SeqCst) {
            tally.broken(format!("{what}: value used after its stop"));
        }
        if *self.heap != self.serial {
            tally.broken(format!("{what}: value corrupted"));
        }
    }
}

#[derive(Default)]
struct Tally {
    starts: Vec<AtomicUsize>,
    stops: Vec<AtomicUsize>,
    reads: AtomicUsize,
    owned_moved: AtomicUsize,
    controls: AtomicUsize,
    broken: Mutex<Vec<String>>,
}

impl Tally {
    fn new(n: usize) -> Self {
        Self {
            starts: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            stops: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            ..Self::default()
        }
    }

    fn broken(&self, what: String) {
        let mut broken = self.broken.lock().unwrap_or_else(PoisonError::into_inner);
        if broken.len() < 20 {
            broken.push(what);
        }
    }
}

/// `a`; `b` reads `a`; `c` reads `b`; `d` reads `a` and `c`; `e` is on its own.
const DEPS: [&[usize]; 5] = [&[], &[0], &[1], &[0, 2], &[]];

fn states(tally: &Arc<Tally>) -> Vec<Arc<State<Value>>> {
    let mut states: Vec<Arc<State<Value>>> = Vec::new();
    for (i, deps) in DEPS.iter().enumerate() {
        let deps: Vec<Arc<State<Value>>> = deps.iter().map(|&d| Arc::clone(&states[d])).collect();
        let (on_start, on_stop) = (Arc::clone(tally), Arc::clone(tally));
        let state = State::new(format!("stress-more::{i}"), move || {
            for dep in &deps {
                let value = dep.try_get()?;
                if !value.open.load(SeqCst) {
                    on_start.broken(format!("state {i} started on a stopped dependency"));
                }
            }
            let serial = on_start.starts[i].fetch_add(1, SeqCst) + 1;
            Ok(Value {
                serial,
                heap: Box::new(serial),
                open: AtomicBool::new(true),
            })
        })
        .with_stop(move |value: Value| {
            on_stop.stops[i].fetch_add(1, SeqCst);
            if !value.open.swap(false, SeqCst) {
                on_stop.broken(format!("state {i} stopped twice"));
            }
        });
        states.push(Arc::new(state));
    }
    states
}

#[test]
fn readers_of_dependent_states_race_stops_restarts_force_closes_and_stop_all() {
    let _serial = serial();
    // A stop waits for guards and handles in flight, some queued for another thread; on a
    // slow run (valgrind, Miri) that can take longer than the default 10 s.
    lifecycle::set_stop_timeout(Duration::from_secs(120));
    let tally = Arc::new(Tally::new(DEPS.len()));
    let states = states(&tally);
    let n = states.len();
    let deadline = Instant::now() + seconds(2.0);
    // Bounded, so handed-over handles never pile up and keep stops waiting.
    let (handoff, handed) = mpsc::sync_channel::<(usize, Owned<Value>)>(8);

    std::thread::scope(|s| {
        // Readers with guards: read, yield while holding, check again; never go back.
        for reader in 0..3 {
            let (states, tally) = (&states, &tally);
            s.spawn(move || {
                let mut rng = Rng::new(reader);
                let mut last = vec![0; n];
                for _ in rounds(deadline) {
                    let i = rng.below(n);
                    match states[i].try_get() {
                        Ok(value) => {
                            value.check(&format!("guard on {i}"), tally);
                            if value.serial < last[i] {
                                tally.broken(format!(
                                    "state {i} went back from {} to {}",
                                    last[i], value.serial
                                ));
                            }
                            last[i] = value.serial;
                            if rng.below(4) == 0 {
                                std::thread::yield_now();
                            }
                            value.check(&format!("guard on {i}, after yielding"), tally);
                        }
                        Err(error) => tally.broken(format!("read of {i} failed: {error}")),
                    }
                    tally.reads.fetch_add(1, SeqCst);
                }
            });
        }
        // Readers with owned handles: some are handed to another thread, read and dropped
        // there.
        for reader in 0..2 {
            let (states, tally, handoff) = (&states, &tally, handoff.clone());
            s.spawn(move || {
                let mut rng = Rng::new(100 + reader);
                for _ in rounds(deadline) {
                    let i = rng.below(n);
                    match states[i].try_get_owned() {
                        Ok(owned) => {
                            owned.check(&format!("owned handle of {i}"), tally);
                            if rng.below(2) == 0 {
                                let _ = handoff.try_send((i, owned));
                            }
                        }
                        Err(error) => tally.broken(format!("owned read of {i} failed: {error}")),
                    }
                    tally.reads.fetch_add(1, SeqCst);
                }
            });
        }
        drop(handoff);
        // Takes handed-over handles, holds them a little, checks them, drops them here; until
        // every owned reader is done (then the channel disconnects), so no handle is left in
        // it to keep the final stop() waiting.
        {
            let tally = &tally;
            s.spawn(move || {
                for (i, owned) in handed {
                    std::thread::yield_now();
                    owned.check(&format!("handle of {i} moved to another thread"), tally);
                    tally.owned_moved.fetch_add(1, SeqCst);
                }
            });
        }
        // Controllers: stop, restart and force-close states; now and then stop everything.
        for controller in 0..2 {
            let (states, tally) = (&states, &tally);
            s.spawn(move || {
                let mut rng = Rng::new(200 + controller);
                // The first rounds restart every state once, however slow the machine.
                let mut round = 0;
                while round < n || Instant::now() < deadline {
                    let i = if round < n { round } else { rng.below(n) };
                    let action = if round < n { 4 } else { rng.below(10) };
                    round += 1;
                    let result = match action {
                        0..=3 => states[i].stop(),
                        4..=6 => states[i].restart().map(drop),
                        7 | 8 => states[i].force_close(),
                        _ => lifecycle::stop().map(drop),
                    };
                    if let Err(error) = result {
                        tally.broken(format!("controlling {i}: {error}"));
                    }
                    tally.controls.fetch_add(1, SeqCst);
                    std::thread::sleep(Duration::from_micros(100 + rng.below(400) as u64));
                }
            });
        }
    });

    lifecycle::stop().unwrap();
    lifecycle::set_stop_timeout(Duration::from_secs(10));
    let broken = tally.broken.lock().unwrap().clone();
    assert!(broken.is_empty(), "{broken:#?}");
    let starts: Vec<usize> = tally.starts.iter().map(|c| c.load(SeqCst)).collect();
    let stops: Vec<usize> = tally.stops.iter().map(|c| c.load(SeqCst)).collect();
    eprintln!(
        "stress_more: 3 guard readers, 2 owned readers (+1 taking moved handles), 2 \
         controllers, {} reads, {} handles moved, {} controls, starts {starts:?}, stops {stops:?}",
        tally.reads.load(SeqCst),
        tally.owned_moved.load(SeqCst),
        tally.controls.load(SeqCst)
    );
    assert_eq!(starts, stops, "every start is matched by exactly one stop");
    assert!(
        starts.iter().all(|&s| s > 1),
        "every state restarted: {starts:?}"
    );
    assert!(tally.reads.load(SeqCst) >= 5 * MIN_READS);
}

/// Reads `state` where nothing is bound: a binder's value (1,000,000 and up) is reported to
/// `broken` as `what` says.
fn read_unbound(
    state: &State<usize>,
    broken: &Mutex<Vec<String>>,
    what: impl FnOnce(usize) -> String,
) {
    let seen = *state.get();
    if seen >= 1_000_000 {
        broken.lock().unwrap().push(what(seen));
    }
}

#[test]
fn bind_on_many_threads_while_the_real_value_restarts() {
    let _serial = serial();
    let starts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&starts);
    let state = State::new("stress-more::bound", move || {
        Ok(counter.fetch_add(1, SeqCst) + 1)
    });
    let deadline = Instant::now() + seconds(2.0).min(Duration::from_millis(700));
    let broken = Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        // Each binder sees only its own value while bound, the real one otherwise.
        for binder in 0..3_usize {
            let (state, broken) = (&state, &broken);
            s.spawn(move || {
                let mine = 1_000_000 + binder;
                while Instant::now() < deadline {
                    {
                        let _bound = state.bind(mine);
                        for _ in 0..10 {
                            let seen = *state.get();
                            if seen != mine {
                                broken
                                    .lock()
                                    .unwrap()
                                    .push(format!("binder {binder} saw {seen}"));
                            }
                        }
                        let owned = state.get_owned();
                        if *owned != mine {
                            broken
                                .lock()
                                .unwrap()
                                .push(format!("binder {binder} owned {}", *owned));
                        }
                    }
                    read_unbound(state, broken, |seen| {
                        format!("binder {binder} unbound saw {seen}")
                    });
                }
            });
        }
        // Plain readers never see a binding.
        for reader in 0..2 {
            let (state, broken) = (&state, &broken);
            s.spawn(move || {
                while Instant::now() < deadline {
                    read_unbound(state, broken, |seen| {
                        format!("reader {reader} saw binding {seen}")
                    });
                }
            });
        }
        s.spawn(|| loop {
            state.restart().unwrap();
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_micros(300));
        });
    });
    let broken = broken.into_inner().unwrap();
    assert!(broken.is_empty(), "{:?}", &broken[..broken.len().min(10)]);
    assert!(starts.load(SeqCst) > 1);
    state.stop().unwrap();
}

#[test]
fn watch_and_unwatch_race_the_events_they_watch() {
    let _serial = serial();
    let tally = Arc::new(Tally::new(DEPS.len()));
    let states = states(&tally);
    let n = states.len();
    // A watcher present the whole time counts every event of these states.
    let events: Arc<Mutex<HashMap<(usize, String), usize>>> = Arc::default();
    let sink = Arc::clone(&events);
    lifecycle::watch("stress-more::counter", move |event, info| {
        if let Some(i) = info.name().strip_prefix("stress-more::") {
            let i: usize = i.parse().unwrap_or(usize::MAX);
            let name = format!("{event:?}");
            *sink.lock().unwrap().entry((i, name)).or_default() += 1;
        }
    });
    let deadline = Instant::now() + seconds(2.0).min(Duration::from_millis(700));
    let calls = Arc::new(AtomicUsize::new(0));
    let late = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        // Watchers come and go; their callbacks watch and unwatch others, and read states.
        for watcher in 0..2 {
            let (calls, late, states) = (&calls, &late, &states);
            s.spawn(move || {
                let mut rng = Rng::new(300 + watcher);
                while Instant::now() < deadline {
                    let key = format!("stress-more::transient-{watcher}-{}", rng.below(4));
                    let (calls, inner, states) = (Arc::clone(calls), key.clone(), states.clone());
                    let gone = Arc::new(AtomicBool::new(false));
                    let (gone_in, late) = (Arc::clone(&gone), Arc::clone(late));
                    lifecycle::watch(key.clone(), move |_, _| {
                        calls.fetch_add(1, SeqCst);
                        // Callbacks are called from a snapshot, outside the lock: one may
                        // still run after `unwatch` returned. Counted, not an error.
                        if gone_in.load(SeqCst) {
                            late.fetch_add(1, SeqCst);
                        }
                        lifecycle::watch(format!("{inner}-nested"), |_, _| {});
                        lifecycle::unwatch(&format!("{inner}-nested"));
                        let _ = states[4].peek().map(|v| v.serial);
                    });
                    std::thread::yield_now();
                    lifecycle::unwatch(&key);
                    gone.store(true, SeqCst);
                }
            });
        }
        // Events: starts and stops on two threads.
        for driver in 0..2 {
            let states = &states;
            s.spawn(move || {
                let mut rng = Rng::new(400 + driver);
                while Instant::now() < deadline {
                    let i = rng.below(n);
                    if rng.below(2) == 0 {
                        states[i].get();
                    } else {
                        states[i].stop().unwrap();
                    }
                }
            });
        }
    });
    for state in states.iter().rev() {
        state.stop().unwrap();
    }
    assert!(lifecycle::unwatch("stress-more::counter"));
    let events = events.lock().unwrap();
    let count =
        |i: usize, event: Event| events.get(&(i, format!("{event:?}"))).copied().unwrap_or(0);
    for i in 0..n {
        let (starts, stops) = (tally.starts[i].load(SeqCst), tally.stops[i].load(SeqCst));
        assert_eq!(starts, stops, "state {i}");
        assert_eq!(count(i, Event::Starting), starts, "state {i}: Starting");
        assert_eq!(count(i, Event::Started), starts, "state {i}: Started");
        assert_eq!(count(i, Event::Stopping), stops, "state {i}: Stopping");
        assert_eq!(count(i, Event::Stopped), stops, "state {i}: Stopped");
    }
    let broken = tally.broken.lock().unwrap().clone();
    assert!(broken.is_empty(), "{broken:#?}");
    eprintln!(
        "stress_more: watch/unwatch: {} transient callback calls ({} after their unwatch \
         returned), {} events counted",
        calls.load(SeqCst),
        late.load(SeqCst),
        events.values().sum::<usize>()
    );
}
