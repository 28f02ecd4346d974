//! Fault injection: errors and panics in starts, stops, watch callbacks and a value's `Drop`
//! at every position of a chain of dependent states; a user mutex poisoned inside a start; a
//! stop that never returns. After every fault, every state stays usable: the library is never
//! poisoned and never hangs.
//!
//! One module per family of faults, on the chain fixture of [`chain`]; this file holds what
//! every family shares (taking turns, counting injected faults, bounded waits).
//!
//! Its own test binary, because `lifecycle::stop()` stops every state of the process; the
//! tests take turns through [`turn`].

#[path = "../common/mod.rs"]
mod common;

mod chain;
mod cycles;
mod display_panics;
mod poisoned;
mod resources;
mod start_faults;
mod stop_faults;
mod stuck_stops;
mod watch_faults;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};
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
