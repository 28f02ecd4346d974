//! Loom models of owned handles on per-thread counts (`Owned`, `AsyncRef`): a handle counts
//! its entry on the thread that makes it and its exit on the thread that drops it, and the
//! stopper sums every thread's exits, then every thread's entries
//! ([`ValueCell::readers_inside`]).
//!
//! Each `Counts` here stands for one thread's owned counts of one state in
//! `kernel::readers`, written only by the thread that owns it (plain load and store, as in
//! production). The stopper (`loom_harness`) sums them in the order given, like
//! `readers::all` walks the records.
//!
//! | case | model |
//! |---|---|
//! | made on one thread, dropped on another, racing a stop | `loom_owned_made_here_dropped_there_races_stop` |
//! | the same, summed in the other order | `loom_owned_dropped_on_a_thread_summed_first` |
//! | a clone (no status check) made on a thread the stopper already summed, dropped on one it sums next | `loom_owned_clone_dropped_where_the_original_was_made` |
//! | dropped on a thread without counts (the shared counts) | `loom_owned_dropped_on_the_shared_counts` |
//!
//! Known gap: with a thread-by-thread "entries minus exits" sum in place of
//! `readers_inside`, loom did not find the interleaving the clone model is about (36,065
//! interleavings, none failing), and the mutation "entries summed before exits" is caught
//! only by `loom_tests::loom_two_readers_and_a_stop_then_restart`, not by these models. The
//! argument for the order is in `kernel/cell.rs`; these models check the real sum on the
//! handovers above.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p lifecycle-core --release --lib loom_owned`.
//! Imports only the kernel's own modules and loom; must not import `state` or `async_state`.

use super::cell::{Counts, ValueCell};
use super::loom_harness::{
    check, check_with, realized_cell, stop_live_and_flag, use_live_value, LIVE,
};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A realized cell, one owned `Counts` per thread of the model, and the stopper's flag.
fn realized(threads: usize) -> (Arc<ValueCell<u32>>, Vec<Arc<Counts>>, Arc<AtomicUsize>) {
    let cell = realized_cell();
    let counts = (0..threads).map(|_| Arc::new(Counts::new())).collect();
    (cell, counts, Arc::new(AtomicUsize::new(0)))
}

/// Reads through a handle: the stopper must not have moved the value out.
fn use_value(cell: &ValueCell<u32>, stopped: &AtomicUsize) {
    use_live_value(cell, stopped, "handle outlived its value");
}

/// Thread A makes a handle on `a` (racing the stop) and moves it to a thread of its own,
/// which reads through it and drops it there: `leave` is that drop's exit.
fn make_and_drop_elsewhere(
    cell: Arc<ValueCell<u32>>,
    stopped: Arc<AtomicUsize>,
    a: Arc<Counts>,
    leave: impl Fn(&ValueCell<u32>) + Send + 'static,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        if cell.enter(&a).is_none() {
            return;
        }
        let dropper = thread::spawn(move || {
            use_value(&cell, &stopped);
            leave(&cell);
        });
        dropper.join().unwrap();
    })
}

/// A handle made on thread A (racing the stop), moved to thread B, dropped there.
fn made_here_dropped_there(name: &str, b_first: bool) {
    check(name, None, move || {
        let (cell, counts, stopped) = realized(2);
        let maker = {
            let (cell, stopped) = (Arc::clone(&cell), Arc::clone(&stopped));
            let (a, b) = (Arc::clone(&counts[0]), Arc::clone(&counts[1]));
            // Thread B drops it on its own counts.
            make_and_drop_elsewhere(cell, stopped, a, move |_| b.exit())
        };
        let order: [&Counts; 2] = if b_first {
            [&counts[1], &counts[0]]
        } else {
            [&counts[0], &counts[1]]
        };
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&cell, &order, &stopped) };
        maker.join().unwrap();
    });
}

#[test]
fn loom_owned_made_here_dropped_there_races_stop() {
    made_here_dropped_there("owned_made_here_dropped_there_races_stop", false);
}

#[test]
fn loom_owned_dropped_on_a_thread_summed_first() {
    made_here_dropped_there("owned_dropped_on_a_thread_summed_first", true);
}

/// The hard case. Thread A makes handle G and hands it to thread C; C clones it (an entry
/// on C's counts, with no status check, as `AsyncRef::clone` does) and hands the clone back;
/// A drops the clone on its own counts and then reads through G. The stopper sums C before
/// A: a sum that looked at C before the clone and at A after the clone's exit would see A
/// balanced (G's entry, the clone's exit) and C empty, and take the value from under G.
/// (All threads are spawned up front and hand over through flags, so loom can schedule the
/// stopper between them.)
fn clone_dropped_where_the_original_was_made(
    name: &str,
    inside: fn(&ValueCell<u32>, &[&Counts]) -> usize,
) {
    check_with(name, None, 10_000, move || {
        let (cell, counts, stopped) = realized(2);
        // 0: nothing yet, 1: G handed to C, 2: clone handed back, 3: A could not enter.
        let handover = Arc::new(AtomicUsize::new(0));
        let cloner = {
            let (handover, c) = (Arc::clone(&handover), Arc::clone(&counts[1]));
            thread::spawn(move || loop {
                match handover.load(Ordering::Acquire) {
                    1 => {
                        // SAFETY: C's own counts; G is inside until A drops it, after this.
                        unsafe { c.again() };
                        handover.store(2, Ordering::Release);
                        return;
                    }
                    3 => return,
                    _ => thread::yield_now(),
                }
            })
        };
        let owner = {
            let (cell, stopped, handover) = (
                Arc::clone(&cell),
                Arc::clone(&stopped),
                Arc::clone(&handover),
            );
            let a = Arc::clone(&counts[0]);
            thread::spawn(move || {
                if cell.enter(&a).is_none() {
                    handover.store(3, Ordering::Release);
                    return;
                }
                handover.store(1, Ordering::Release);
                while handover.load(Ordering::Acquire) != 2 {
                    thread::yield_now();
                }
                a.exit(); // the clone, dropped on A
                use_value(&cell, &stopped); // through G, still held
                a.exit(); // G
            })
        };
        cell.begin_stop();
        let order: [&Counts; 2] = [&counts[1], &counts[0]];
        while inside(&cell, &order) != 0 {
            thread::yield_now();
        }
        // SAFETY: exclusive stop right, begin_stop ran, no reader inside (if `inside` is right).
        assert_eq!(unsafe { cell.take() }, LIVE);
        stopped.store(1, Ordering::Release);
        owner.join().unwrap();
        cloner.join().unwrap();
    });
}

#[test]
fn loom_owned_clone_dropped_where_the_original_was_made() {
    clone_dropped_where_the_original_was_made(
        "owned_clone_dropped_where_the_original_was_made",
        |cell, counts| cell.readers_inside(|| counts.iter().copied()),
    );
}

/// A handle made on A's counts and dropped on a thread that has no counts any more (its
/// thread-locals are being torn down): its exit goes to the cell's shared counts.
#[test]
fn loom_owned_dropped_on_the_shared_counts() {
    check("owned_dropped_on_the_shared_counts", None, || {
        let (cell, counts, stopped) = realized(1);
        let maker = make_and_drop_elsewhere(
            Arc::clone(&cell),
            Arc::clone(&stopped),
            Arc::clone(&counts[0]),
            ValueCell::exit_shared,
        );
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&cell, &[&counts[0]], &stopped) };
        maker.join().unwrap();
    });
}
