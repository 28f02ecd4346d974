//! One value slot, its status, and the reader protocol (part of the kernel).
//!
//! Everything `unsafe` about sharing a state's value lives here, and this is the part the
//! loom models check (`kernel/loom_tests.rs`, run by `.ci/run`).
//!
//! # Protocol
//!
//! * A *reader* announces itself on an entry counter that only its own thread writes
//!   ([`Counts::enter`]) — or, on a thread without counts of its own, on the cell's shared
//!   counts — then runs [`barrier::light`] and reads the status. It may use the value only if
//!   the status was `REALIZED`; otherwise it withdraws. Leaving bumps an exit counter with
//!   `Release`: a guard's on the thread it entered on, an owned handle's on whichever thread
//!   drops it (that thread's own exit counter), so one thread's counts alone may show more
//!   exits than entries.
//! * A reader that is inside may add a reader without the status check ([`Counts::again`]:
//!   a nested read, a cloned handle), on any thread's counts: the stop cannot be waiting for
//!   zero while the first reader's exit is not yet counted.
//! * A *starter* (who holds the state's exclusive start right, see `kernel::world`) writes the
//!   value and publishes `REALIZED` with `Release`.
//! * A *stopper* (who holds the exclusive stop right) stores `STOPPING`, runs
//!   [`barrier::heavy`], and then waits until every reader has left
//!   ([`ValueCell::readers_inside`]: the sum of every exit counter, read first, subtracted
//!   from the sum of every entry counter, read after). After that no reader can
//!   be using the value and none can start to, so it moves the value out and publishes
//!   `UNREALIZED`.
//!
//! The light/heavy pair is a store-load (Dekker) fence: either the stopper sees a reader's
//! announcement, or the reader sees `STOPPING`.
//!
//! Why all exits first, then all entries: every exit happens after its own entry (on the
//! same thread, or the handle moved with a happens-before edge, or — for [`Counts::again`] —
//! after the entry of the reader it was added by), so an exit the first pass counts has its
//! entry counted by the second pass (Acquire load, then coherence). The sums then satisfy
//! `entries >= exits`, and equality means every counted reader has left, and with its
//! `Release` exit every use of the value happened before the stopper's `take`. Readers whose
//! entry the second pass missed saw `STOPPING` (Dekker) or were added by a reader whose
//! entry was counted, which cannot have left. A per-thread "entries minus exits" would not
//! do: a handle added on a thread already summed and dropped on one summed later could cancel
//! a reader still inside (the case `kernel/loom_owned.rs` models).
//!
//! Imports only the kernel's `barrier` and `sync`; must not import `state` or `async_state`.

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

    /// Adds a reader without checking the status, on the calling thread's own counts.
    ///
    /// # Safety
    /// Only the owning thread writes these counts, and the caller holds a reader of the same
    /// cell that is inside (has not left) and stays inside until this call returns.
    #[inline(always)]
    pub(crate) unsafe fn again(&self) {
        self.enter();
    }

    /// Only the owning thread calls this. `Release` orders every use of the value before it.
    #[inline(always)]
    pub(crate) fn exit(&self) {
        let n = self.exit.load(Ordering::Relaxed);
        self.exit.store(n.wrapping_add(1), Ordering::Release);
    }

    /// Enters from any thread (an atomic increment): the cell's shared counts.
    fn enter_atomic(&self) {
        self.enter.fetch_add(1, Ordering::Relaxed);
    }

    /// Leaves from any thread (an atomic increment): the cell's shared counts.
    pub(crate) fn exit_atomic(&self) {
        self.exit.fetch_add(1, Ordering::Release);
    }

    /// How many readers of this thread are inside, as seen by anyone — for counts that only
    /// guards of this thread use (never owned handles, which may leave elsewhere).
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

/// A value slot with a status and shared reader counts.
pub(crate) struct ValueCell<T> {
    status: AtomicU8,
    /// Entries and exits of readers on threads that have no counts of their own (a thread
    /// being torn down, or beyond the per-thread tables), written with atomic increments.
    shared: Counts,
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
            shared: Counts::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            status: AtomicU8::new(UNREALIZED),
            shared: Counts::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Enters as a reader on this thread's own `counts`; `None` if the value is not there.
    ///
    /// The pointer stays valid until the caller calls `counts.exit()` — on this thread.
    #[inline(always)]
    pub(crate) fn enter(&self, counts: &Counts) -> Option<*const T> {
        counts.enter();
        self.entered(|| counts.exit())
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

    /// Enters as a reader on the shared counts (a thread without counts of its own).
    pub(crate) fn enter_shared(&self) -> Option<*const T> {
        self.shared.enter_atomic();
        self.entered(|| self.exit_shared())
    }

    /// The second half of an entry, after the reader's count went up: the barrier pairs with
    /// the stopper's, so either the stopper sees this reader or this reader sees the status
    /// the stopper set. The value if it is realized; else `leave` takes the count back.
    #[inline(always)]
    fn entered(&self, leave: impl FnOnce()) -> Option<*const T> {
        barrier::light();
        if self.status.load(Ordering::Acquire) == REALIZED {
            Some(self.value_ptr())
        } else {
            leave();
            None
        }
    }

    /// Adds a reader on the shared counts without checking the status.
    ///
    /// # Safety
    /// The caller holds a reader of this cell that is inside until this call returns.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) unsafe fn again_shared(&self) {
        self.shared.enter_atomic();
    }

    /// Leaves on the shared counts, from any thread (after any entry of this cell's readers).
    pub(crate) fn exit_shared(&self) {
        self.shared.exit_atomic();
    }

    /// The shared counts, for guards that leave through [`Counts::exit_atomic`].
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn shared_counts(&self) -> &Counts {
        &self.shared
    }

    /// How many readers are inside: the shared counts plus every `Counts` that `counts`
    /// yields (each call must yield at least the counts of the call before, in any order).
    ///
    /// Sums every exit counter first and every entry counter after (see the module doc);
    /// zero means that every reader counted has left, with Acquire loads ordering their uses
    /// of the value before whatever the caller does next.
    pub(crate) fn readers_inside<'a, I>(&self, counts: impl Fn() -> I) -> usize
    where
        I: Iterator<Item = &'a Counts>,
    {
        let exits = counts().map(|c| c.exit.load(Ordering::Acquire)).fold(
            self.shared.exit.load(Ordering::Acquire),
            usize::wrapping_add,
        );
        let enters = counts().map(|c| c.enter.load(Ordering::Acquire)).fold(
            self.shared.enter.load(Ordering::Acquire),
            usize::wrapping_add,
        );
        enters.wrapping_sub(exits)
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
    /// inside ([`Self::readers_inside`] returned zero over every thread's counts).
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
