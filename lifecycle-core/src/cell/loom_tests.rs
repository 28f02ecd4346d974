//! Loom models of the kernel: every interleaving of start, read, stop, cancelled stop and
//! forced close, with the exact code of `ValueCell` (its atomics are loom's under `cfg(loom)`).
//!
//! The exclusive start/stop right is the world lock in production; here one thread plays the
//! owner of that right, and readers race against it. Readers read the value through loom's
//! `UnsafeCell`, so a read that overlaps the stopper's move-out is reported as a data race,
//! and a read of a moved-out value is caught by the value check.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p lifecycle-core --release --lib loom`.

use super::{Counts, ValueCell};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A value that remembers whether its stop ran: reading a stopped one is the bug we hunt.
const LIVE: u32 = 7;

/// Waits like `Core::wait_for_readers`, over the given per-thread counts.
fn wait_for_readers(cell: &ValueCell<u32>, counts: &[&Counts]) {
    while cell.shared_inside() + counts.iter().map(|c| c.inside()).sum::<usize>() != 0 {
        thread::yield_now();
    }
}

fn read_once(cell: &ValueCell<u32>, counts: &Counts) -> Option<u32> {
    cell.enter(counts)?;
    let value = cell.read_tracked();
    counts.exit();
    Some(value)
}

#[test]
fn loom_read_races_publish() {
    loom::model(|| {
        let cell = Arc::new(ValueCell::<u32>::new());
        let reader = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                let counts = Counts::new();
                // Either not there yet, or the published value: never garbage.
                if let Some(value) = read_once(&cell, &counts) {
                    assert_eq!(value, LIVE);
                }
            })
        };
        // SAFETY: this thread is the only starter and the cell is UNREALIZED.
        unsafe { cell.publish(LIVE) };
        reader.join().unwrap();
    });
}

#[test]
fn loom_read_races_stop() {
    loom::model(|| {
        let cell = Arc::new(ValueCell::<u32>::new());
        // SAFETY: no other thread exists yet.
        unsafe { cell.publish(LIVE) };
        let counts = Arc::new(Counts::new());
        let stopped = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (cell, counts, stopped) =
                (Arc::clone(&cell), Arc::clone(&counts), Arc::clone(&stopped));
            thread::spawn(move || {
                if cell.enter(&counts).is_some() {
                    // Inside: the stopper must not have moved the value out.
                    assert_eq!(stopped.load(Ordering::Acquire), 0, "read after stop");
                    assert_eq!(cell.read_tracked(), LIVE);
                    counts.exit();
                }
            })
        };
        cell.begin_stop();
        wait_for_readers(&cell, &[&counts]);
        // SAFETY: exclusive stop right, begin_stop ran, no reader inside.
        let value = unsafe { cell.take() };
        stopped.store(1, Ordering::Release);
        assert_eq!(value, LIVE);
        reader.join().unwrap();
        assert!(!cell.is_realized());
    });
}

#[test]
fn loom_owned_handle_released_on_another_thread() {
    loom::model(|| {
        let cell = Arc::new(ValueCell::<u32>::new());
        // SAFETY: no other thread exists yet.
        unsafe { cell.publish(LIVE) };
        // Entered here, moved to another thread, left there (like `Owned`).
        let entered = cell.enter_shared().is_some();
        assert!(entered);
        let mover = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                assert_eq!(cell.read_tracked(), LIVE);
                cell.exit_shared();
            })
        };
        cell.begin_stop();
        wait_for_readers(&cell, &[]);
        // SAFETY: exclusive stop right, begin_stop ran, no reader inside.
        assert_eq!(unsafe { cell.take() }, LIVE);
        mover.join().unwrap();
    });
}

#[test]
fn loom_cancelled_stop_keeps_the_value_for_readers() {
    loom::model(|| {
        let cell = Arc::new(ValueCell::<u32>::new());
        // SAFETY: no other thread exists yet.
        unsafe { cell.publish(LIVE) };
        let reader = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                let counts = Counts::new();
                if let Some(value) = read_once(&cell, &counts) {
                    assert_eq!(value, LIVE);
                }
            })
        };
        // A stop that gives up (timeout) puts the value back: readers may use it again.
        cell.begin_stop();
        cell.cancel_stop();
        reader.join().unwrap();
        assert!(cell.is_realized());
    });
}

#[test]
fn loom_two_readers_and_a_stop_then_restart() {
    loom::model(|| {
        let cell = Arc::new(ValueCell::<u32>::new());
        // SAFETY: no other thread exists yet.
        unsafe { cell.publish(LIVE) };
        let counts: Vec<Arc<Counts>> = (0..2).map(|_| Arc::new(Counts::new())).collect();
        let readers: Vec<_> = counts
            .iter()
            .map(|counts| {
                let (cell, counts) = (Arc::clone(&cell), Arc::clone(counts));
                thread::spawn(move || {
                    if let Some(value) = read_once(&cell, &counts) {
                        assert!(value == LIVE || value == LIVE + 1);
                    }
                })
            })
            .collect();
        cell.begin_stop();
        wait_for_readers(&cell, &[&counts[0], &counts[1]]);
        // SAFETY: exclusive stop right, begin_stop ran, no reader inside.
        assert_eq!(unsafe { cell.take() }, LIVE);
        // Start again (restart): readers that come late see the new value.
        // SAFETY: still the exclusive owner; the cell is UNREALIZED after take.
        unsafe { cell.publish(LIVE + 1) };
        for reader in readers {
            reader.join().unwrap();
        }
    });
}
