//! Loom models of the kernel: every interleaving of start, read, stop, cancelled stop and
//! forced close, with the exact code of `ValueCell` (its atomics are loom's under `cfg(loom)`).
//!
//! The exclusive start/stop right is the world lock in production; in the first models one
//! thread plays the owner of that right, and readers race against it. The later models
//! (`loom_world_*`) race several owners of the right through [`World`], a replica of the
//! phase protocol of `kernel::world` and `state::core` (the world lock itself is `std`'s and not
//! compiled under loom): what the kernel sees when starts, stops and force-closes race.
//! The `loom_kernel_*` models drive the real phase table (`kernel::phases`) instead.
//! Readers read the value through loom's `UnsafeCell`, so a read that overlaps the stopper's
//! move-out (or a second starter's write) is reported as a data race, and a read of a
//! moved-out value is caught by the value check.
//!
//! Racing pairs and where they are checked:
//!
//! | pair | model |
//! |---|---|
//! | get/get on an unrealized state | `loom_read_races_publish`, `loom_two_readers_race_publish`, `loom_world_getters_race_the_first_start` |
//! | get/stop | `loom_read_races_stop`, `loom_two_readers_and_a_stop_then_restart`, `loom_world_get_races_stop` |
//! | stop/stop (serialized by the world lock) | `loom_world_two_stops_race` |
//! | get/force_close (after a failed stop) | `loom_world_get_races_failed_stop_and_force_close` |
//! | owned handle moved across threads vs stop | `loom_owned_handle_released_on_another_thread`, `loom_owned_handle_entered_racing_stop_and_moved`; on per-thread counts: `kernel/loom_owned.rs` |
//! | cancelled stop (timeout) vs readers | `loom_cancelled_stop_keeps_the_value_for_readers`, `loom_stop_times_out_on_a_reader_then_succeeds` |
//! | restart/get | `loom_restart_reads_never_go_backwards`, `loom_world_get_races_stop` (the getter restarts) |
//! | given-up teardown vs another thread's stop vs force_close (issue 11, rule 1) | `loom_kernel_a_teardown_that_gives_up_never_hijacks_another_stop` |
//! | restart vs a dependent's start in flight (issue 11, rule 2) | `loom_kernel_restart_leaves_no_dependent_built_from_a_stopped_value` |
//! | reload's swap vs a stop vs a reader (issue 13) | `loom_kernel_reload_races_a_stop_and_a_reader` |
//! | reader id chosen on the fast path vs first start | `loom_fast_path_reader_id_races_first_start` |
//! | per-thread counts handed to a new thread | `loom_counts_handed_over_to_a_new_thread` |
//!
//! `bind`/`get` and `watch`/`unwatch` during events never reach the kernel (bindings are
//! thread-local, watchers a lock-protected list read as a snapshot); they are tested with real
//! threads in `tests/faults.rs` and `tests/model.rs`.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p lifecycle-core --release --lib loom`.
//! Each model prints how many interleavings it explored (`loom_harness::check`).
//! Imports only the kernel's own modules and loom; must not import `state` or `async_state`.

use super::cell::{Counts, ValueCell};
use super::loom_harness::{
    assert_balanced, check, check_with, read_before_stop, read_live_or_nothing, read_once,
    reader_racing_stop, realized_cell, restart_live, shared_with_counts, spawn_reader_before_stop,
    spawn_with, stop_live, stop_live_and_flag, take_when_drained, use_live_value, wait_for_readers,
    ReaderRacingStop, LIVE,
};
use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

#[test]
fn loom_read_races_publish() {
    check("read_races_publish", None, || {
        let cell = Arc::new(ValueCell::<u32>::new());
        let reader = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                let counts = Counts::new();
                // Either not there yet, or the published value: never garbage.
                read_live_or_nothing(&cell, &counts);
            })
        };
        // SAFETY: this thread is the only starter and the cell is UNREALIZED.
        unsafe { cell.publish(LIVE) };
        reader.join().unwrap();
    });
}

#[test]
fn loom_read_races_stop() {
    check("read_races_stop", None, || {
        let race = reader_racing_stop(1);
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&race.cell, &[&race.counts], &race.stopped) };
        race.reader.join().unwrap();
        assert!(!race.cell.is_realized());
    });
}

#[test]
fn loom_owned_handle_released_on_another_thread() {
    check("owned_handle_released_on_another_thread", None, || {
        let cell = realized_cell();
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
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live(&cell, &[]) };
        mover.join().unwrap();
    });
}

#[test]
fn loom_cancelled_stop_keeps_the_value_for_readers() {
    check("cancelled_stop_keeps_the_value_for_readers", None, || {
        let cell = realized_cell();
        let reader = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || read_live_or_nothing(&cell, &Counts::new()))
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
    check("two_readers_and_a_stop_then_restart", None, || {
        let cell = realized_cell();
        let counts: Vec<Arc<Counts>> = (0..2).map(|_| Arc::new(Counts::new())).collect();
        let readers: Vec<_> = counts
            .iter()
            .map(|counts| {
                spawn_with(&cell, counts, |cell, counts| {
                    if let Some(value) = read_once(cell, counts) {
                        assert!(value == LIVE || value == LIVE + 1);
                    }
                })
            })
            .collect();
        // Readers that come late see the new value.
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { restart_live(&cell, &[&counts[0], &counts[1]]) };
        for reader in readers {
            reader.join().unwrap();
        }
    });
}

#[test]
fn loom_two_readers_race_publish() {
    check("two_readers_race_publish", None, || {
        let cell = Arc::new(ValueCell::<u32>::new());
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let cell = Arc::clone(&cell);
                thread::spawn(move || {
                    let counts = Counts::new();
                    // Twice: once the value is seen, it stays (nothing stops it here).
                    let first = read_once(&cell, &counts);
                    let second = read_once(&cell, &counts);
                    if let Some(value) = first {
                        assert_eq!(value, LIVE);
                        assert_eq!(second, Some(LIVE), "a published value went away");
                    }
                    if let Some(value) = second {
                        assert_eq!(value, LIVE);
                    }
                })
            })
            .collect();
        // SAFETY: this thread is the only starter and the cell is UNREALIZED.
        unsafe { cell.publish(LIVE) };
        for reader in readers {
            reader.join().unwrap();
        }
    });
}

#[test]
fn loom_owned_handle_entered_racing_stop_and_moved() {
    check("owned_handle_entered_racing_stop_and_moved", None, || {
        let cell = realized_cell();
        let stopped = Arc::new(AtomicUsize::new(0));
        // Enters on the shared counter while the stop begins (like `get_owned`), then moves
        // the handle to a thread of its own, which reads and leaves there (like `Owned::drop`).
        let owner = {
            let (cell, stopped) = (Arc::clone(&cell), Arc::clone(&stopped));
            thread::spawn(move || {
                if cell.enter_shared().is_none() {
                    return;
                }
                let mover = thread::spawn(move || {
                    use_live_value(&cell, &stopped, "handle outlived its value");
                    cell.exit_shared();
                });
                mover.join().unwrap();
            })
        };
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&cell, &[], &stopped) };
        owner.join().unwrap();
    });
}

#[test]
fn loom_stop_times_out_on_a_reader_then_succeeds() {
    check("stop_times_out_on_a_reader_then_succeeds", None, || {
        // Reads on both sides of the cancelled stop; each read is whole or refused.
        let ReaderRacingStop {
            cell,
            counts,
            stopped,
            reader,
        } = reader_racing_stop(2);
        // First stop: looks once (a timeout of zero), gives up if anyone is inside.
        cell.begin_stop();
        let gave_up = cell.readers_inside(|| [&*counts].into_iter()) != 0;
        if gave_up {
            cell.cancel_stop();
            assert!(cell.is_realized(), "a cancelled stop puts the value back");
            // Second stop: waits as long as it takes.
            cell.begin_stop();
        }
        wait_for_readers(&cell, &[&counts]);
        // SAFETY: exclusive stop right, begin_stop ran, no reader inside.
        assert_eq!(unsafe { cell.take() }, LIVE);
        stopped.store(1, Ordering::Release);
        reader.join().unwrap();
        assert!(!cell.is_realized());
    });
}

#[test]
fn loom_restart_reads_never_go_backwards() {
    check("restart_reads_never_go_backwards", None, || {
        let cell = realized_cell();
        let counts = Arc::new(Counts::new());
        let reader = spawn_with(&cell, &counts, |cell, counts| {
            let mut last = 0;
            for _ in 0..3 {
                if let Some(value) = read_once(cell, counts) {
                    assert!(value == LIVE || value == LIVE + 1, "garbage {value}");
                    assert!(value >= last, "read {value} after {last}");
                    last = value;
                }
            }
        });
        // Restart while the reader reads.
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { restart_live(&cell, &[&counts]) };
        reader.join().unwrap();
    });
}

/// A replica of `State::enter_fast` choosing its per-thread counts by the state's reader id,
/// against the first start, which assigns the id (`Core::ensure_reader_id`) and publishes.
///
/// A reader that loaded the id before it was assigned must not enter on the counts of id 0:
/// no stopper looks there, so the value could be moved out under it. The fast path leaves id
/// 0 to the slow path, which assigns the id first (as `enter_any` does).
#[test]
fn loom_fast_path_reader_id_races_first_start() {
    check("fast_path_reader_id_races_first_start", None, || {
        let cell = Arc::new(ValueCell::<u32>::new());
        let reader_id = Arc::new(AtomicUsize::new(0));
        // One thread's table: slot 0 belongs to no state, slot 1 is this state's.
        let table = Arc::new([Counts::new(), Counts::new()]);
        let stopped = Arc::new(AtomicUsize::new(0));
        let ensure_id = |reader_id: &AtomicUsize| match reader_id.compare_exchange(
            0,
            1,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => 1,
            Err(winner) => winner,
        };
        let reader = {
            let (cell, reader_id, table, stopped) = (
                Arc::clone(&cell),
                Arc::clone(&reader_id),
                Arc::clone(&table),
                Arc::clone(&stopped),
            );
            thread::spawn(move || {
                let id = match reader_id.load(Ordering::Relaxed) {
                    0 => ensure_id(&reader_id), // the slow path
                    id => id,
                };
                read_before_stop(&cell, &table[id], &stopped);
            })
        };
        // The first start: assign the id, then publish; then a stop over the id's counts.
        let id = ensure_id(&reader_id);
        // SAFETY: this thread is the only starter and the cell is UNREALIZED.
        unsafe { cell.publish(LIVE) };
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&cell, &[&table[id]], &stopped) };
        reader.join().unwrap();
    });
}

/// A replica of `readers`' record handover: a thread ends and releases its record (`claimed`
/// stored `false` with Release), a new thread claims it (CAS with Acquire) and reads on the
/// same counts with plain loads and stores, while a stopper sums them.
#[test]
fn loom_counts_handed_over_to_a_new_thread() {
    check("counts_handed_over_to_a_new_thread", None, || {
        let cell = realized_cell();
        let counts = Arc::new(Counts::new());
        let claimed = Arc::new(loom::sync::atomic::AtomicBool::new(true));
        let stopped = Arc::new(AtomicUsize::new(0));
        let first = {
            let (cell, counts, claimed) =
                (Arc::clone(&cell), Arc::clone(&counts), Arc::clone(&claimed));
            thread::spawn(move || {
                read_live_or_nothing(&cell, &counts);
                claimed.store(false, Ordering::Release); // `ReleaseOnExit`
            })
        };
        // The second thread comes by the released counts as `claim_or_create` does.
        let claim = {
            let claimed = Arc::clone(&claimed);
            move || {
                while claimed
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    thread::yield_now();
                }
            }
        };
        let second = spawn_reader_before_stop(&cell, &counts, &stopped, claim, 1);
        // SAFETY: this thread holds the exclusive stop right and the cell is realized.
        unsafe { stop_live_and_flag(&cell, &[&counts], &stopped) };
        first.join().unwrap();
        second.join().unwrap();
    });
}

/// The phases of `kernel::phases::Phase`, as far as one state's kernel is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Starting,
    Stopping,
    /// A stop function failed: the value is gone until `force_close` clears the state.
    Failed,
}

/// Why a replica call refused (`Error::StopFailedEarlier`).
#[derive(Debug, PartialEq, Eq)]
struct FailedEarlier;

/// A replica of the start/stop rights of `kernel::world` and `state::core` for one state: the phase
/// under one lock (the world lock) and one condition variable for waiters. The kernel calls
/// (`publish`, `begin_stop`, `take`) are the real ones; the start function makes the next
/// value (`LIVE`, `LIVE + 1`, ...) and the stop function counts.
struct World {
    cell: ValueCell<u32>,
    phase: Mutex<Phase>,
    changed: Condvar,
    starts: AtomicU32,
    stops: AtomicU32,
}

impl World {
    fn unrealized() -> Self {
        Self {
            cell: ValueCell::new(),
            phase: Mutex::new(Phase::Idle),
            changed: Condvar::new(),
            starts: AtomicU32::new(0),
            stops: AtomicU32::new(0),
        }
    }

    fn realized() -> Self {
        let world = Self::unrealized();
        world.starts.store(1, Ordering::Relaxed);
        // SAFETY: no other thread can see the world yet.
        unsafe { world.cell.publish(LIVE) };
        world
    }

    /// `Core::start_or_wait`: start here, or wait for whoever is starting or stopping.
    fn start_or_wait(&self) -> Result<(), FailedEarlier> {
        let mut phase = self.phase.lock().unwrap();
        loop {
            if self.cell.is_realized() {
                return Ok(());
            }
            match *phase {
                Phase::Idle => break,
                Phase::Starting | Phase::Stopping => phase = self.changed.wait(phase).unwrap(),
                Phase::Failed => return Err(FailedEarlier),
            }
        }
        *phase = Phase::Starting;
        drop(phase);
        // The start function runs outside the lock.
        let value = LIVE + self.starts.fetch_add(1, Ordering::Relaxed);
        let mut phase = self.phase.lock().unwrap();
        *phase = Phase::Idle;
        // SAFETY: we held the Starting phase and saw UNREALIZED under the lock.
        unsafe { self.cell.publish(value) };
        drop(phase);
        self.changed.notify_all();
        Ok(())
    }

    /// `State::get`: read, else start or wait, and read again.
    fn get(&self, counts: &Counts) -> Result<u32, FailedEarlier> {
        loop {
            if let Some(value) = read_once(&self.cell, counts) {
                return Ok(value);
            }
            self.start_or_wait()?;
        }
    }

    /// `Core::stop` (`force`: `force_close`) over the readers' `counts`; `fails`: the stop
    /// function fails. The value it took, if there was one.
    fn stop(
        &self,
        counts: &[&Counts],
        fails: bool,
        force: bool,
    ) -> Result<Option<u32>, FailedEarlier> {
        let mut phase = self.phase.lock().unwrap();
        loop {
            match *phase {
                Phase::Idle => break,
                Phase::Starting | Phase::Stopping => phase = self.changed.wait(phase).unwrap(),
                Phase::Failed if force => {
                    *phase = Phase::Idle;
                    drop(phase);
                    self.changed.notify_all();
                    return Ok(None);
                }
                Phase::Failed => return Err(FailedEarlier),
            }
        }
        if !self.cell.is_realized() {
            return Ok(None);
        }
        *phase = Phase::Stopping;
        drop(phase);
        // SAFETY: we hold the Stopping phase and saw the cell realized under the lock.
        let value = unsafe { take_when_drained(&self.cell, counts) };
        // The stop function runs outside the lock, with the value.
        self.stops.fetch_add(1, Ordering::Relaxed);
        let mut phase = self.phase.lock().unwrap();
        *phase = if fails && !force {
            Phase::Failed
        } else {
            Phase::Idle
        };
        drop(phase);
        self.changed.notify_all();
        Ok(Some(value))
    }

    fn assert_balanced(&self) {
        assert_balanced(&self.starts, &self.stops, &self.cell);
    }
}

#[test]
fn loom_world_getters_race_the_first_start() {
    check("world_getters_race_the_first_start", None, || {
        let world = Arc::new(World::unrealized());
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let world = Arc::clone(&world);
                thread::spawn(move || world.get(&Counts::new()))
            })
            .collect();
        for getter in getters {
            assert_eq!(getter.join().unwrap(), Ok(LIVE), "both see the one start");
        }
        assert_eq!(world.starts.load(Ordering::Relaxed), 1, "start ran once");
        world.assert_balanced();
    });
}

#[test]
fn loom_world_two_stops_race() {
    check("world_two_stops_race", None, || {
        let (world, counts) = shared_with_counts(World::realized());
        let stoppers: Vec<_> = (0..2)
            .map(|_| {
                spawn_with(&world, &counts, |world, counts| {
                    world.stop(&[counts], false, false)
                })
            })
            .collect();
        // A reader on the side: the value or nothing, never a stopped one.
        read_live_or_nothing(&world.cell, &counts);
        let results: Vec<_> = stoppers.into_iter().map(|s| s.join().unwrap()).collect();
        let took: Vec<_> = results.iter().filter(|r| **r == Ok(Some(LIVE))).collect();
        assert_eq!(
            took.len(),
            1,
            "exactly one stop takes the value: {results:?}"
        );
        assert!(
            results.contains(&Ok(None)),
            "the other finds it stopped: {results:?}"
        );
        assert!(!world.cell.is_realized());
        world.assert_balanced();
    });
}

#[test]
fn loom_world_get_races_stop() {
    // Restart (stop, then get) on one thread, get on another: the getter may be the one that
    // starts the state again; either way it starts once more, and reads never go back.
    check("world_get_races_stop", None, || {
        let (world, counts) = shared_with_counts(World::realized());
        let getter = spawn_with(&world, &counts, |world, counts| {
            let first = world.get(counts).unwrap();
            let second = world.get(counts).unwrap();
            assert!(first <= second, "read {second} after {first}");
            second
        });
        let restarter = Counts::new();
        assert_eq!(
            world.stop(&[&counts, &restarter], false, false),
            Ok(Some(LIVE))
        );
        assert_eq!(world.get(&restarter), Ok(LIVE + 1));
        let last = getter.join().unwrap();
        assert!(last == LIVE || last == LIVE + 1);
        assert_eq!(
            world.starts.load(Ordering::Relaxed),
            2,
            "started again once"
        );
        world.assert_balanced();
    });
}

#[test]
fn loom_world_get_races_failed_stop_and_force_close() {
    // A stop whose function fails leaves the state failed (the value is gone): a getter is
    // refused, never handed the gone value; `force_close` clears it, and a getter may start
    // it again; `force_close` of a realized state whose stop fails clears it too.
    check(
        "world_get_races_failed_stop_and_force_close",
        Some(10),
        || {
            let (world, counts) = shared_with_counts(World::realized());
            let getter = spawn_with(&world, &counts, |world, counts| world.get(counts));
            let closer: &[&Counts] = &[&counts];
            assert_eq!(world.stop(closer, true, false), Ok(Some(LIVE)));
            assert_eq!(world.stop(closer, false, false), Err(FailedEarlier));
            assert_eq!(
                world.stop(closer, true, true),
                Ok(None),
                "force_close clears it"
            );
            // The getter may have started it again meanwhile; force_close takes that value.
            let again = world.stop(closer, true, true).unwrap();
            let got = getter.join().unwrap();
            let starts = world.starts.load(Ordering::Relaxed);
            // The getter may start it again after each force_close it sees: up to twice.
            if let Ok(value) = got {
                assert!((LIVE..LIVE + starts).contains(&value), "{value}");
            }
            if let Some(value) = again {
                assert_eq!(
                    value,
                    LIVE + 1,
                    "the last force_close took the getter's first start"
                );
            }
            if world.cell.is_realized() {
                // What is there now is the newest start, and the getter read it.
                let latest = LIVE + starts - 1;
                assert_eq!(read_once(&world.cell, &Counts::new()), Some(latest));
                assert_eq!(got, Ok(latest));
            }
            world.assert_balanced();
        },
    );
}

// ---------------------------------------------------------------------------------------
// Models over the real phase table (`kernel::phases`): issue 11's rules 1 and 2.
// ---------------------------------------------------------------------------------------

use super::cell::Slot;
use super::phases::{By, Ended, Phase as TablePhase, Phases};

/// One state's cell with the real phase table under a loom lock (the world lock), and the
/// decisions of `world::Table::acquire` that the models need, written over it.
struct Kernel {
    phases: Mutex<Phases>,
    cell: ValueCell<u32>,
    starts: AtomicU32,
    stops: AtomicU32,
}

const KEY: usize = 1;

impl Kernel {
    fn realized() -> Self {
        let kernel = Self {
            phases: Mutex::new(Phases::default()),
            cell: ValueCell::new(),
            starts: AtomicU32::new(1),
            stops: AtomicU32::new(0),
        };
        // SAFETY: no other thread can see the kernel yet.
        unsafe { kernel.cell.publish(LIVE) };
        kernel
    }

    /// A stop that owns its ticket from the start (`State::stop_within` on thread T).
    fn stop(&self, counts: &[&Counts]) -> Option<u32> {
        let ticket = {
            let mut phases = self.phases.lock().unwrap();
            if phases.get(KEY).is_some() || self.cell.slot() != Slot::Realized {
                return None;
            }
            phases.begin_stop(KEY, By::Task)
        };
        // SAFETY: we hold the stop right (`ticket`) and saw the cell realized under the lock.
        let value = unsafe { take_when_drained(&self.cell, counts) };
        self.stops.fetch_add(1, Ordering::Relaxed);
        let ended = Ended::Ran {
            failure: None,
            force: false,
        };
        self.phases
            .lock()
            .unwrap()
            .conclude_stop(KEY, ticket, ended);
        Some(value)
    }

    /// `stop()`'s worker queued behind another stop and gave up on its own (never begun)
    /// stop: `world::abandon_stop` with a pending claim.
    fn give_up_queued(&self) {
        self.phases
            .lock()
            .unwrap()
            .mark_overdue(KEY, "given up".into());
    }

    /// `force_close` as `Table::acquire` decides it; `Err` when it refuses (another stop
    /// holds the value, or a stop or start is running: the real one waits or refuses).
    fn force_close(&self) -> Result<(), ()> {
        let mut phases = self.phases.lock().unwrap();
        match phases.get(KEY) {
            Some(TablePhase::Failed { .. }) => {
                if phases.clear_failed(KEY, self.cell.slot() == Slot::Empty) {
                    Ok(())
                } else {
                    Err(())
                }
            }
            Some(_) => Err(()),
            None => Ok(()),
        }
    }

    /// A `get` that starts the state when the table lets it (`Want::Start` on an idle,
    /// unrealized state), publishing the next value. The check that a start never writes
    /// over a value another stop still holds is the point of rule 1.
    fn start_if_idle(&self) {
        let ticket = {
            let mut phases = self.phases.lock().unwrap();
            if phases.get(KEY).is_some() || self.cell.slot() == Slot::Realized {
                return;
            }
            phases.begin_start(KEY, By::Task)
        };
        let value = LIVE + self.starts.fetch_add(1, Ordering::Relaxed);
        let mut phases = self.phases.lock().unwrap();
        assert!(phases.conclude_start(KEY, ticket));
        assert_eq!(
            self.cell.slot(),
            Slot::Empty,
            "a start would write over a value another stop still holds"
        );
        // SAFETY: we held the start right and the slot is empty (checked above).
        unsafe { self.cell.publish(value) };
    }

    /// A reload (`kernel::reload` with the sync driver's swap): the new value was started
    /// beside the old one (counted as a start); under a stop ticket the old one is drained,
    /// taken and replaced (`Phases::conclude_swap`); if the state is busy or stopped, the new
    /// value is stopped instead. Returns the value that was stopped.
    fn reload(&self, counts: &[&Counts]) -> u32 {
        let new = LIVE + self.starts.fetch_add(1, Ordering::Relaxed);
        let ticket = {
            let mut phases = self.phases.lock().unwrap();
            if phases.get(KEY).is_some() || self.cell.slot() != Slot::Realized {
                drop(phases);
                self.stops.fetch_add(1, Ordering::Relaxed);
                return new;
            }
            phases.begin_stop(KEY, By::Task)
        };
        // SAFETY: we hold the stop right (`ticket`) and saw the cell realized under the lock;
        // after the take the slot is empty under that same exclusive right.
        let old = unsafe {
            let old = take_when_drained(&self.cell, counts);
            self.cell.publish(new);
            old
        };
        assert!(self.phases.lock().unwrap().conclude_swap(KEY, ticket));
        self.stops.fetch_add(1, Ordering::Relaxed);
        old
    }

    fn assert_balanced(&self) {
        assert_balanced(&self.starts, &self.stops, &self.cell);
    }
}

#[test]
fn loom_kernel_a_teardown_that_gives_up_never_hijacks_another_stop() {
    // Thread R holds a guard; thread T's stop waits for it; the teardown's worker gives up
    // on its queued stop; the user force-closes and reads again. Value 0 is stopped exactly
    // once, by T, and no start writes over it.
    check(
        "kernel_a_teardown_that_gives_up_never_hijacks_another_stop",
        Some(3),
        || {
            let (kernel, counts) = shared_with_counts(Kernel::realized());
            assert!(kernel.cell.enter(&counts).is_some(), "R holds a guard");
            let reader = {
                let counts = Arc::clone(&counts);
                thread::spawn(move || counts.exit())
            };
            let stopper = spawn_with(&kernel, &counts, |kernel, counts| kernel.stop(&[counts]));
            kernel.give_up_queued();
            let forced = kernel.force_close();
            kernel.start_if_idle();
            reader.join().unwrap();
            assert_eq!(stopper.join().unwrap(), Some(LIVE), "T stops value 0");
            if forced.is_ok() {
                // Cleared only when nothing held a value (T had not begun, or had ended).
                kernel.start_if_idle();
            }
            kernel.assert_balanced();
        },
    );
}

/// A dependency `s` and a dependent `d`, each with the real phase table's epochs, and the
/// epoch of `s` that `d`'s start read (`Edges::record`'s epoch).
struct Pair {
    phases: Mutex<(Phases, Option<u64>)>,
    s: ValueCell<u32>,
    d: ValueCell<u32>,
    s_starts: AtomicU32,
}

const S: usize = 1;
const D: usize = 2;

impl Pair {
    /// `s.get()` from `d`'s start: records the epoch read, then reads, starting `s` if it
    /// is idle (as `get` would), waiting while it is busy.
    fn read_s(&self, counts: &Counts) -> u32 {
        loop {
            {
                let mut table = self.phases.lock().unwrap();
                let epoch = table.0.epoch(S);
                table.1.get_or_insert(epoch);
            }
            if let Some(value) = read_once(&self.s, counts) {
                return value;
            }
            self.start_s();
            thread::yield_now();
        }
    }

    fn start_s(&self) {
        let ticket = {
            let mut table = self.phases.lock().unwrap();
            if table.0.get(S).is_some() || self.s.slot() != Slot::Empty {
                return;
            }
            table.0.begin_start(S, By::Task)
        };
        let value = LIVE + self.s_starts.fetch_add(1, Ordering::Relaxed);
        let mut table = self.phases.lock().unwrap();
        assert!(table.0.conclude_start(S, ticket));
        // SAFETY: we held the start right of `s` and saw its slot empty under the lock.
        unsafe { self.s.publish(value) };
    }

    /// `d`'s start: it reads `s` and is built from the value it read.
    fn start_d(&self, counts: &Counts) {
        let ticket = {
            let mut table = self.phases.lock().unwrap();
            if table.0.get(D).is_some() || self.d.slot() != Slot::Empty {
                return;
            }
            table.1 = None; // a start forgets what the previous one read
            table.0.begin_start(D, By::Task)
        };
        let built_from = self.read_s(counts);
        let mut table = self.phases.lock().unwrap();
        assert!(table.0.conclude_start(D, ticket));
        // SAFETY: we held the start right of `d` and saw its slot empty under the lock.
        unsafe { self.d.publish(built_from) };
    }

    fn stop(&self, key: usize, cell: &ValueCell<u32>, counts: &[&Counts]) {
        let ticket = {
            let mut table = self.phases.lock().unwrap();
            if table.0.get(key).is_some() || cell.slot() != Slot::Realized {
                return;
            }
            table.0.begin_stop(key, By::Task)
        };
        // SAFETY: we hold the stop right and saw the cell realized under the lock.
        let _ = unsafe { take_when_drained(cell, counts) };
        let ended = Ended::Ran {
            failure: None,
            force: false,
        };
        let mut table = self.phases.lock().unwrap();
        table.0.conclude_stop(key, ticket, ended);
    }

    /// `restart()` of `s` (the realized dependent is not realized yet in this model): stop
    /// `s`, then the stale pass of `world::Table::next_stale`, then start `s` again.
    fn restart_s(&self, counts: &[&Counts]) {
        self.stop(S, &self.s, counts);
        loop {
            let next = {
                let table = self.phases.lock().unwrap();
                let stale = table.1.is_some_and(|read| read < table.0.epoch(S));
                match table.0.get(D) {
                    Some(TablePhase::Starting(_)) if stale => Some(false), // wait
                    _ if stale && self.d.is_realized() => Some(true),      // stop it
                    _ => None,
                }
            };
            match next {
                Some(true) => self.stop(D, &self.d, counts),
                Some(false) => thread::yield_now(),
                None => break,
            }
        }
        self.start_s();
    }
}

#[test]
fn loom_kernel_restart_leaves_no_dependent_built_from_a_stopped_value() {
    // `d`'s start runs (reading `s`) while `s` restarts: afterwards a realized `d` holds
    // data of the current `s`, never of the stopped one.
    check_with(
        "kernel_restart_leaves_no_dependent_built_from_a_stopped_value",
        Some(2),
        1_000_000,
        || {
            let pair = Arc::new(Pair {
                phases: Mutex::new((Phases::default(), None)),
                s: ValueCell::new(),
                d: ValueCell::new(),
                s_starts: AtomicU32::new(1),
            });
            // SAFETY: no other thread can see the pair yet.
            unsafe { pair.s.publish(LIVE) };
            let starter_counts = Arc::new(Counts::new());
            let starter = spawn_with(&pair, &starter_counts, Pair::start_d);
            let own = Counts::new();
            pair.restart_s(&[&starter_counts, &own]);
            starter.join().unwrap();
            let s_now = read_once(&pair.s, &own).expect("s is started after the restart");
            if let Some(d) = read_once(&pair.d, &own) {
                // The starter may have built `d` after the restart returned, from the new
                // value: that is fine. From the stopped one, never.
                assert_eq!(d, s_now, "d was built from a stopped value of s");
            }
        },
    );
}

#[test]
fn loom_kernel_reload_races_a_stop_and_a_reader() {
    // Thread S stops the state while thread L reloads it and this thread reads: the reader
    // sees the old or the new value (never a moved-out one), every value is stopped exactly
    // once, and a stop that wins leaves the reload's new value stopped, not published.
    check("kernel_reload_races_a_stop_and_a_reader", None, || {
        let (kernel, reader_counts) = shared_with_counts(Kernel::realized());
        let stopper = spawn_with(&kernel, &reader_counts, |kernel, counts| {
            kernel.stop(&[counts])
        });
        let reloader = spawn_with(&kernel, &reader_counts, |kernel, counts| {
            kernel.reload(&[counts])
        });
        if let Some(value) = read_once(&kernel.cell, &reader_counts) {
            assert!(value == LIVE || value == LIVE + 1, "garbage {value}");
        }
        let stopped = stopper.join().unwrap();
        let replaced = reloader.join().unwrap();
        if let Some(stopped) = stopped {
            assert_ne!(stopped, replaced, "a value stopped twice");
        }
        kernel.assert_balanced();
    });
}
