//! What the loom models share (`loom_tests`, `loom_owned`): running a model and counting its
//! interleavings, the value a live cell holds, spawning a thread with its handles on what the
//! model shares, the reader's and the stopper's steps on one [`ValueCell`], and the check that
//! starts and stops balance, so that each model states only its threads and what it checks.
//!
//! The steps are the real kernel calls in the order production makes them; a model that
//! needs another order (a stop that gives up, a sum of its own) writes it out. Under loom an
//! `Arc`'s clone and drop are scheduling points too: the helpers that spawn a model's thread
//! clone its handles just before the spawn, as the models did when they spelled it out, and
//! the steps take references only (the interleaving counts the models print stayed the same).
//! Imports only the kernel's own modules and loom; must not import `state` or `async_state`.

use super::cell::{Counts, ValueCell};
use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread::{self, JoinHandle};

/// Checks `f` in every interleaving with at most `preemptions` preemptions (`None`: all of
/// them), and reports how many interleavings that was.
pub(super) fn check(name: &str, preemptions: Option<usize>, f: impl Fn() + Send + Sync + 'static) {
    check_with(name, preemptions, 1_000, f);
}

/// [`check`] for models whose waits spin (yielding) longer than loom's default allows.
pub(super) fn check_with(
    name: &str,
    preemptions: Option<usize>,
    max_branches: usize,
    f: impl Fn() + Send + Sync + 'static,
) {
    // Tests of one binary run in parallel, so count per model through the closure.
    let explored = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&explored);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = preemptions;
    }
    builder.max_branches = builder.max_branches.max(max_branches);
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let bound = preemptions.map_or_else(|| "unbounded".to_owned(), |n| format!("{n}"));
    eprintln!(
        "loom model {name}: {} interleavings (preemption bound {bound})",
        explored.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// A value that remembers whether its stop ran: reading a stopped one is the bug we hunt.
pub(super) const LIVE: u32 = 7;

/// A cell holding [`LIVE`], published before any other thread of the model exists.
pub(super) fn realized_cell() -> Arc<ValueCell<u32>> {
    let cell = Arc::new(ValueCell::<u32>::new());
    // SAFETY: no other thread exists yet, so this one holds the start right.
    unsafe { cell.publish(LIVE) };
    cell
}

/// A model's shared state and one reader's counts, each to be shared with its threads.
pub(super) fn shared_with_counts<M>(model: M) -> (Arc<M>, Arc<Counts>) {
    (Arc::new(model), Arc::new(Counts::new()))
}

/// A thread of the model with its own handles on `model` and `counts` (cloned in that
/// order), running `f` on them.
pub(super) fn spawn_with<M, R>(
    model: &Arc<M>,
    counts: &Arc<Counts>,
    f: impl FnOnce(&M, &Counts) -> R + Send + 'static,
) -> JoinHandle<R>
where
    M: Send + Sync + 'static,
    R: Send + 'static,
{
    let (model, counts) = (Arc::clone(model), Arc::clone(counts));
    thread::spawn(move || f(&model, &counts))
}

/// A realized cell, one reader's counts, the stopper's flag, and that reader's thread.
pub(super) struct ReaderRacingStop {
    pub(super) cell: Arc<ValueCell<u32>>,
    pub(super) counts: Arc<Counts>,
    pub(super) stopped: Arc<AtomicUsize>,
    pub(super) reader: JoinHandle<()>,
}

/// A realized cell and a reader that makes `reads` guarded reads on its counts
/// ([`read_before_stop`]), racing the stop the calling thread is to make.
pub(super) fn reader_racing_stop(reads: usize) -> ReaderRacingStop {
    let cell = realized_cell();
    let counts = Arc::new(Counts::new());
    let stopped = Arc::new(AtomicUsize::new(0));
    let reader = spawn_reader_before_stop(&cell, &counts, &stopped, || {}, reads);
    ReaderRacingStop {
        cell,
        counts,
        stopped,
        reader,
    }
}

/// A reader thread with its own handles on `cell`, `counts` and `stopped` (cloned in that
/// order): it runs `first` (how it comes by its counts), then makes `reads` guarded reads
/// racing a stop ([`read_before_stop`]).
pub(super) fn spawn_reader_before_stop(
    cell: &Arc<ValueCell<u32>>,
    counts: &Arc<Counts>,
    stopped: &Arc<AtomicUsize>,
    first: impl Fn() + Send + 'static,
    reads: usize,
) -> JoinHandle<()> {
    let (cell, counts, stopped) = (Arc::clone(cell), Arc::clone(counts), Arc::clone(stopped));
    thread::spawn(move || {
        first();
        for _ in 0..reads {
            read_before_stop(&cell, &counts, &stopped);
        }
    })
}

/// Every start is matched by one stop, except the value that is in `cell` now.
pub(super) fn assert_balanced(starts: &AtomicU32, stops: &AtomicU32, cell: &ValueCell<u32>) {
    let (starts, stops) = (
        starts.load(Ordering::Relaxed),
        stops.load(Ordering::Relaxed),
    );
    assert_eq!(
        starts,
        stops + u32::from(cell.is_realized()),
        "{starts} starts, {stops} stops: a value was lost or stopped twice"
    );
}

/// Waits like `Core::wait_for_readers`, over the given per-thread counts (the order in
/// which `readers::all` would list them).
pub(super) fn wait_for_readers(cell: &ValueCell<u32>, counts: &[&Counts]) {
    while cell.readers_inside(|| counts.iter().copied()) != 0 {
        thread::yield_now();
    }
}

/// One guarded read on `counts`: enter, read, leave; `None` if the cell refused the reader.
pub(super) fn read_once(cell: &ValueCell<u32>, counts: &Counts) -> Option<u32> {
    cell.enter(counts)?;
    let value = cell.read_tracked();
    counts.exit();
    Some(value)
}

/// [`read_once`] where the only value the cell ever holds is [`LIVE`]: the value or
/// nothing, never garbage.
pub(super) fn read_live_or_nothing(cell: &ValueCell<u32>, counts: &Counts) {
    if let Some(value) = read_once(cell, counts) {
        assert_eq!(value, LIVE);
    }
}

/// One guarded read on `counts` racing a stop that raises `stopped` once it moved the value
/// out: a reader the cell lets in must find the value still there.
pub(super) fn read_before_stop(cell: &ValueCell<u32>, counts: &Counts, stopped: &AtomicUsize) {
    if cell.enter(counts).is_some() {
        use_live_value(cell, stopped, "read after stop");
        counts.exit();
    }
}

/// Uses the value as a reader that is inside: the stopper must not have raised `stopped`
/// (moved the value out) yet, and the value is [`LIVE`]. `bug` names what a failure means.
pub(super) fn use_live_value(cell: &ValueCell<u32>, stopped: &AtomicUsize, bug: &str) {
    assert_eq!(stopped.load(Ordering::Acquire), 0, "{bug}");
    assert_eq!(cell.read_tracked(), LIVE);
}

/// The stopper's step as `Core::stop` takes it: closes the cell to new readers, waits until
/// no reader on `counts` (or on the shared counts) is inside, and moves the value out.
///
/// # Safety
/// The calling thread holds the exclusive stop right and the cell is realized.
pub(super) unsafe fn take_when_drained(cell: &ValueCell<u32>, counts: &[&Counts]) -> u32 {
    cell.begin_stop();
    wait_for_readers(cell, counts);
    // SAFETY: the caller's exclusive stop right, begin_stop ran, no reader inside.
    unsafe { cell.take() }
}

/// [`take_when_drained`] on a cell that holds [`LIVE`].
///
/// # Safety
/// As for [`take_when_drained`].
pub(super) unsafe fn stop_live(cell: &ValueCell<u32>, counts: &[&Counts]) {
    // SAFETY: the caller's contract is `take_when_drained`'s.
    assert_eq!(unsafe { take_when_drained(cell, counts) }, LIVE);
}

/// [`stop_live`], then raises `stopped` (Release) for the readers that check it.
///
/// # Safety
/// As for [`take_when_drained`].
pub(super) unsafe fn stop_live_and_flag(
    cell: &ValueCell<u32>,
    counts: &[&Counts],
    stopped: &AtomicUsize,
) {
    // SAFETY: the caller's contract is `take_when_drained`'s.
    unsafe { stop_live(cell, counts) };
    stopped.store(1, Ordering::Release);
}

/// A restart of a cell that holds [`LIVE`]: [`stop_live`], then a start of the next value
/// (`LIVE + 1`) under the same exclusive right.
///
/// # Safety
/// As for [`take_when_drained`].
pub(super) unsafe fn restart_live(cell: &ValueCell<u32>, counts: &[&Counts]) {
    // SAFETY: the caller's contract is `take_when_drained`'s.
    unsafe { stop_live(cell, counts) };
    // SAFETY: still the exclusive owner; the cell is UNREALIZED after the take.
    unsafe { cell.publish(LIVE + 1) };
}
