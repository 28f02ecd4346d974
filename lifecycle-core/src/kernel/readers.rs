//! Per-thread reader counts: the bookkeeping of the read path, without shared writes.
//!
//! Every thread that reads a state gets a [`ThreadRecord`]: a two-level table of
//! [`Counts`], indexed by the state's reader id. Only the owning thread writes its record, so
//! entering and leaving a state are plain loads and stores on memory no other core touches.
//! A stopper sums one state's counts over every record. Records are never freed: when a
//! thread ends with no reader inside, its record goes back to the pool for the next thread
//! (as arc-swap does with its debt lists); a record left with a reader inside (a leaked
//! guard) stays claimed, so the state it points at reports "still in use" instead of being
//! freed under it.

use super::cell::Counts;
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

/// Counts per page; a page is allocated the first time its thread reads one of its states.
const PAGE_LEN: usize = 256;
/// Pages per record: reader ids `1..PAGES * PAGE_LEN` get per-thread counts; readers of states
/// with larger ids (more than half a million live states) use the shared counter.
const PAGES: usize = 2048;

struct Page {
    counts: [Counts; PAGE_LEN],
}

/// One thread's reader counts for every state it has read.
pub(crate) struct ThreadRecord {
    pages: [AtomicPtr<Page>; PAGES],
    claimed: AtomicBool,
    next: *const ThreadRecord,
}

// SAFETY: `next` is written once before the record is published and never changed; pages are
// published with Release and never freed; the counts are atomics.
unsafe impl Sync for ThreadRecord {}
// SAFETY: as above; a record is only ever reached through `&'static`.
unsafe impl Send for ThreadRecord {}

impl ThreadRecord {
    /// This thread's counts for `id`, or `None` if its page is not allocated yet.
    ///
    /// Only the owning thread may call this (it is the fast path: no allocation).
    #[inline(always)]
    pub(crate) fn counts(&self, id: usize) -> Option<&Counts> {
        let page = self.pages.get(id / PAGE_LEN)?.load(Ordering::Relaxed);
        if page.is_null() {
            return None;
        }
        // SAFETY: a non-null page pointer was produced by `Box::into_raw` in `counts_or_alloc`
        // and pages are never freed.
        Some(unsafe { &(*page).counts[id % PAGE_LEN] })
    }

    /// Like [`Self::counts`], allocating the page if needed. Only the owning thread calls it.
    pub(crate) fn counts_or_alloc(&self, id: usize) -> Option<&Counts> {
        let slot = self.pages.get(id / PAGE_LEN)?;
        if slot.load(Ordering::Relaxed).is_null() {
            let page = Box::new(Page {
                counts: [const { Counts::new() }; PAGE_LEN],
            });
            slot.store(Box::into_raw(page), Ordering::Release);
        }
        self.counts(id)
    }

    /// How many of this record's readers are inside the state with reader id `id`.
    pub(crate) fn inside(&self, id: usize) -> usize {
        let Some(slot) = self.pages.get(id / PAGE_LEN) else {
            return 0;
        };
        let page = slot.load(Ordering::Acquire);
        if page.is_null() {
            return 0;
        }
        // SAFETY: see `counts`.
        unsafe { (*page).counts[id % PAGE_LEN].inside() }
    }

    fn is_quiet(&self) -> bool {
        self.pages.iter().all(|slot| {
            let page = slot.load(Ordering::Acquire);
            // SAFETY: see `counts`.
            page.is_null() || unsafe { (*page).counts.iter().all(|c| c.inside() == 0) }
        })
    }
}

/// The head of the push-only list of every record ever made.
static RECORDS: AtomicPtr<ThreadRecord> = AtomicPtr::new(ptr::null_mut());

/// Every record ever made (claimed or free), for stoppers.
pub(crate) fn all() -> impl Iterator<Item = &'static ThreadRecord> {
    let mut next = RECORDS.load(Ordering::Acquire).cast_const();
    std::iter::from_fn(move || {
        // SAFETY: records are leaked boxes, published with Release and never freed.
        let record = unsafe { next.as_ref()? };
        next = record.next;
        Some(record)
    })
}

fn claim_or_create() -> &'static ThreadRecord {
    for record in all() {
        if !record.claimed.load(Ordering::Relaxed)
            && record
                .claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return record;
        }
    }
    // Pushes are rare (one per thread beyond the pool), so a lock keeps this simple.
    static PUSH: Mutex<()> = Mutex::new(());
    let _push = PUSH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let record = Box::leak(Box::new(ThreadRecord {
        pages: [const { AtomicPtr::new(ptr::null_mut()) }; PAGES],
        claimed: AtomicBool::new(true),
        next: RECORDS.load(Ordering::Acquire),
    }));
    RECORDS.store(record, Ordering::Release);
    record
}

thread_local! {
    /// This thread's record, or null. No destructor, so reading it is a plain TLS load.
    static CURRENT: Cell<*const ThreadRecord> = const { Cell::new(ptr::null()) };
    /// Gives the record back when the thread ends.
    static RELEASE: ReleaseOnExit = const { ReleaseOnExit };
}

struct ReleaseOnExit;

impl Drop for ReleaseOnExit {
    fn drop(&mut self) {
        let record = CURRENT.with(|current| current.replace(ptr::null()));
        // SAFETY: a non-null CURRENT points at a leaked record.
        if let Some(record) = unsafe { record.as_ref() } {
            // A reader still inside (a leaked guard) keeps the record claimed forever, so its
            // counts keep the state from being stopped under it.
            if record.is_quiet() {
                record.claimed.store(false, Ordering::Release);
            }
        }
    }
}

/// This thread's record, if it has one (fast path).
#[inline(always)]
pub(crate) fn current() -> Option<&'static ThreadRecord> {
    // SAFETY: a non-null CURRENT points at a leaked record.
    CURRENT.with(|current| unsafe { current.get().as_ref() })
}

/// This thread's record, registering one if needed; `None` while the thread is ending (its
/// readers then use the shared counter).
pub(crate) fn current_or_register() -> Option<&'static ThreadRecord> {
    if let Some(record) = current() {
        return Some(record);
    }
    // Touching RELEASE registers its destructor; it fails once the thread is being torn down.
    RELEASE.try_with(|_| ()).ok()?;
    let record = claim_or_create();
    CURRENT.with(|current| current.set(record));
    Some(record)
}

/// The sum over all threads of readers inside the state with reader id `id`.
pub(crate) fn inside_anywhere(id: usize) -> usize {
    all().map(|record| record.inside(id)).sum()
}

/// Reader ids: small integers that index the per-thread tables. Id 0 means "none yet".
pub(crate) mod ids {
    use std::sync::{Mutex, PoisonError};

    struct Pool {
        next: usize,
        free: Vec<usize>,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool {
        next: 1,
        free: Vec::new(),
    });

    pub(crate) fn allocate() -> usize {
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        pool.free.pop().unwrap_or_else(|| {
            let id = pool.next;
            pool.next += 1;
            id
        })
    }

    /// Gives an id back. The caller guarantees no reader can reach the state any more.
    pub(crate) fn release(id: usize) {
        POOL.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .free
            .push(id);
    }
}
