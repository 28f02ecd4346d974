//! One value slot, its status, and the reader protocol (part of the kernel).
//!
//! Everything `unsafe` about sharing a state's value lives here, and this is the part the
//! loom models check (`kernel/loom_tests.rs`, run by `.ci/run`). Imports only the kernel's
//! `barrier` and `sync`.
//!
//! # Protocol
//!
//! * A *reader* announces itself on a counter that only its own thread writes
//!   ([`Counts::enter`]) — or, for handles that may move between threads, on the shared
//!   counter — then runs [`barrier::light`] and reads the status. It may use the value only if
//!   the status was `REALIZED`; otherwise it withdraws. Leaving bumps its exit counter with
//!   `Release`.
//! * A *starter* (who holds the state's exclusive start right, see `kernel::world`) writes the value
//!   and publishes `REALIZED` with `Release`.
//! * A *stopper* (who holds the exclusive stop right) stores `STOPPING`, runs
//!   [`barrier::heavy`], and then waits until every reader has left. After that no reader can
//!   be using the value and none can start to, so it moves the value out and publishes
//!   `UNREALIZED`.
//!
//! The light/heavy pair is a store-load (Dekker) fence: either the stopper sees a reader's
//! announcement, or the reader sees `STOPPING`.

use super::barrier;
use super::sync::{AtomicU8, AtomicUsize, Ordering, UnsafeCell};
use std::mem::MaybeUninit;

pub(crate) const UNREALIZED: u8 = 0;
pub(crate) const REALIZED: u8 = 1;
pub(crate) const STOPPING: u8 = 2;

/// One thread's reader counts for one state: entries and exits, written only by that thread.
///
/// Two monotonic counters instead of one up-down counter: an increment and a decrement of the
/// same word form a store-forwarding chain that costs about twice as much on the read path.
/// The number of readers inside is `enter - exit` (wrapping).
#[derive(Debug)]
pub(crate) struct Counts {
    enter: AtomicUsize,
    exit: AtomicUsize,
}

impl Counts {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            enter: AtomicUsize::new(0),
            exit: AtomicUsize::new(0),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            enter: AtomicUsize::new(0),
            exit: AtomicUsize::new(0),
        }
    }

    /// Only the owning thread calls this, so a load and a store suffice (no `lock` prefix).
    #[inline(always)]
    fn enter(&self) {
        let n = self.enter.load(Ordering::Relaxed);
        self.enter.store(n.wrapping_add(1), Ordering::Relaxed);
    }

    /// Only the owning thread calls this. `Release` orders every use of the value before it.
    #[inline(always)]
    pub(crate) fn exit(&self) {
        let n = self.exit.load(Ordering::Relaxed);
        self.exit.store(n.wrapping_add(1), Ordering::Release);
    }

    /// How many readers of this thread are inside, as seen by anyone.
    ///
    /// Reads `exit` before `enter`: both only grow, so the result is never below the true
    /// count at the moment `exit` was read, and zero means the thread had left by then.
    pub(crate) fn inside(&self) -> usize {
        let exit = self.exit.load(Ordering::Acquire);
        let enter = self.enter.load(Ordering::Acquire);
        enter.wrapping_sub(exit)
    }
}

/// What a cell holds, as the world's decisions need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// No value (`UNREALIZED`).
    Empty,
    /// A value readers may enter (`REALIZED`).
    Realized,
    /// A value a stop has closed to new readers (`STOPPING`).
    Closing,
}

/// A value slot with a status and a shared reader counter.
pub(crate) struct ValueCell<T> {
    status: AtomicU8,
    /// Readers that may leave on another thread than they entered on (owned handles), and
    /// readers whose thread has no counts of its own.
    shared: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written only by the exclusive starter before `REALIZED` is published
// (Release/Acquire), read through `&T` by any number of threads while `REALIZED` (needs
// `T: Sync`), and moved out — possibly on another thread — only by the exclusive stopper once
// every reader has left (needs `T: Send`). The atomics are `Sync` on their own.
unsafe impl<T: Send + Sync> Sync for ValueCell<T> {}
// SAFETY: moving the cell moves the value; that needs `T: Send` and nothing else.
unsafe impl<T: Send> Send for ValueCell<T> {}

impl<T> ValueCell<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            status: AtomicU8::new(UNREALIZED),
            shared: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            status: AtomicU8::new(UNREALIZED),
            shared: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Enters as a reader on this thread's own `counts`; `None` if the value is not there.
    ///
    /// The pointer stays valid until the caller calls `counts.exit()` — on this thread.
    #[inline(always)]
    pub(crate) fn enter(&self, counts: &Counts) -> Option<*const T> {
        counts.enter();
        barrier::light();
        if self.status.load(Ordering::Acquire) == REALIZED {
            Some(self.value_ptr())
        } else {
            counts.exit();
            None
        }
    }

    /// Enters again on `counts` if this thread is already inside on them (a nested read
    /// while holding a guard): allowed even while a stop waits, because that stop cannot take
    /// the value before these counts show no reader inside, and they cannot while the outer
    /// guard is held. `None` if this thread is not inside.
    ///
    /// # Safety
    /// `counts` are the calling thread's own counts for this cell (only it writes them).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) unsafe fn reenter(&self, counts: &Counts) -> Option<*const T> {
        if counts.inside() == 0 {
            return None;
        }
        counts.enter();
        Some(self.value_ptr())
    }

    /// Enters as a reader that may leave on another thread (see [`Self::exit_shared`]).
    pub(crate) fn enter_shared(&self) -> Option<*const T> {
        self.shared.fetch_add(1, Ordering::Relaxed);
        barrier::light();
        if self.status.load(Ordering::Acquire) == REALIZED {
            Some(self.value_ptr())
        } else {
            self.exit_shared();
            None
        }
    }

    /// Leaves after [`Self::enter_shared`], from any thread.
    pub(crate) fn exit_shared(&self) {
        exit_shared_counter(&self.shared);
    }

    /// The shared counter, for guards that leave through [`exit_shared_counter`].
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn shared_counter(&self) -> &AtomicUsize {
        &self.shared
    }

    /// How many shared readers are inside.
    pub(crate) fn shared_inside(&self) -> usize {
        self.shared.load(Ordering::Acquire)
    }

    /// What the slot holds.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn slot(&self) -> Slot {
        match self.status.load(Ordering::Acquire) {
            REALIZED => Slot::Realized,
            STOPPING => Slot::Closing,
            _ => Slot::Empty,
        }
    }

    #[inline]
    pub(crate) fn is_realized(&self) -> bool {
        self.status.load(Ordering::Acquire) == REALIZED
    }

    /// Stores the value and publishes it to readers.
    ///
    /// # Safety
    /// The caller holds the exclusive start right and the status is `UNREALIZED` (so no one
    /// reads or writes the slot).
    pub(crate) unsafe fn publish(&self, value: T) {
        // SAFETY: exclusive access per the contract; readers touch the slot only after
        // seeing `REALIZED`, which is stored below with Release.
        self.value.with_mut(|slot| unsafe { (*slot).write(value) });
        self.status.store(REALIZED, Ordering::Release);
    }

    /// Closes the door to new readers and makes every earlier announcement visible.
    ///
    /// The caller holds the exclusive stop right and the status is `REALIZED`.
    pub(crate) fn begin_stop(&self) {
        self.status.store(STOPPING, Ordering::Relaxed);
        barrier::heavy();
    }

    /// Gives up a stop begun with [`Self::begin_stop`]: the value stays and readers come back.
    pub(crate) fn cancel_stop(&self) {
        self.status.store(REALIZED, Ordering::Release);
    }

    /// Moves the value out and publishes `UNREALIZED`.
    ///
    /// # Safety
    /// The caller began the stop with [`Self::begin_stop`] and has since seen zero readers
    /// inside on every thread's counts and on the shared counter (with the Acquire loads of
    /// [`Counts::inside`] and [`Self::shared_inside`]).
    pub(crate) unsafe fn take(&self) -> T {
        // SAFETY: no reader is inside and none can enter (status is STOPPING), the value was
        // initialized by `publish`, and the Acquire loads that saw the readers leave order
        // their last uses before this read.
        let value = self
            .value
            .with_mut(|slot| unsafe { (*slot).assume_init_read() });
        self.status.store(UNREALIZED, Ordering::Release);
        value
    }

    /// Reads the value through the cell, so loom sees the access (tests only).
    #[cfg(all(test, loom))]
    pub(crate) fn read_tracked(&self) -> T
    where
        T: Copy,
    {
        // SAFETY: called only between a successful enter and the matching exit.
        self.value
            .with(|slot| unsafe { (*slot).assume_init_read() })
    }

    #[inline(always)]
    fn value_ptr(&self) -> *const T {
        self.value.with(|slot| slot.cast::<T>())
    }
}

/// Leaves after [`ValueCell::enter_shared`], given only the counter.
pub(crate) fn exit_shared_counter(shared: &AtomicUsize) {
    shared.fetch_sub(1, Ordering::Release);
}

impl<T> Drop for ValueCell<T> {
    fn drop(&mut self) {
        // `&mut self`: no reader can be inside. A realized value is dropped without its stop
        // function; the owner runs stop first whenever it can (see `state::core`).
        #[cfg(not(loom))]
        let status = *self.status.get_mut();
        #[cfg(loom)]
        let status = self.status.load(Ordering::Relaxed);
        if status == REALIZED {
            // SAFETY: REALIZED means the slot holds an initialized value, and we are the only
            // ones with access.
            self.value
                .with_mut(|slot| unsafe { (*slot).assume_init_drop() });
        }
    }
}
