//! Per-thread reader counts: the bookkeeping of the read path, without shared writes.
//!
//! Every thread that reads a state gets a [`ThreadRecord`]: a two-level table of
//! [`Counts`], indexed by the state's reader id, two per state: one for guards (`Ref`), which
//! leave on the thread they entered on, and one for owned handles (`Owned`, `AsyncRef`),
//! which enter on the thread that makes them and leave on the thread that drops them. Only
//! the owning thread writes its record, so entering and leaving a state are plain loads and
//! stores on memory no other core touches. A stopper sums one state's counts over every
//! record ([`inside_anywhere`]). Records are never freed: when a thread ends with no guard
//! inside, its record goes back to the pool for the next thread (as arc-swap does with its
//! debt lists); its owned counts may stay unbalanced (a handle it made lives on elsewhere),
//! which only the sum over all records means anything about. A record left with a guard
//! inside (a leaked guard) stays claimed, so the state it points at reports "still in use"
//! instead of being freed under it, and no new thread mistakes that guard for its own.
//!
//! Imports only the kernel's `cell`; must not import `state` or `async_state`.

use super::cell::{Counts, ValueCell};
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
    /// Guards, entered and left on this thread.
    refs: [Counts; PAGE_LEN],
    /// Owned handles made or dropped on this thread.
    owned: [Counts; PAGE_LEN],
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
    /// The page holding `id`, if allocated. `Acquire`: stoppers read pages other threads
    /// allocated; for the owning thread it is as cheap as `Relaxed` on x86 and ARM64.
    #[inline(always)]
    fn page(&self, id: usize) -> Option<&'static Page> {
        let page = self.pages.get(id / PAGE_LEN)?.load(Ordering::Acquire);
        // SAFETY: a non-null page pointer was produced by `Box::into_raw` in `page_or_alloc`,
        // published with Release, and pages are never freed.
        unsafe { page.as_ref() }
    }

    /// The page holding `id`, allocating it if needed. Only the owning thread calls it.
    fn page_or_alloc(&self, id: usize) -> Option<&'static Page> {
        let slot = self.pages.get(id / PAGE_LEN)?;
        if slot.load(Ordering::Relaxed).is_null() {
            let page = Box::new(Page {
                refs: [const { Counts::new() }; PAGE_LEN],
                owned: [const { Counts::new() }; PAGE_LEN],
            });
            slot.store(Box::into_raw(page), Ordering::Release);
        }
        self.page(id)
    }

    /// This thread's guard counts for `id`, or `None` if its page is not allocated yet.
    ///
    /// Only the owning thread may write them (it is the fast path: no allocation).
    #[inline(always)]
    pub(crate) fn counts(&self, id: usize) -> Option<&'static Counts> {
        Some(&self.page(id)?.refs[id % PAGE_LEN])
    }

    /// Like [`Self::counts`], allocating the page if needed. Only the owning thread calls it.
    pub(crate) fn counts_or_alloc(&self, id: usize) -> Option<&'static Counts> {
        Some(&self.page_or_alloc(id)?.refs[id % PAGE_LEN])
    }

    /// This thread's owned-handle counts for `id`, if its page is allocated.
    #[inline(always)]
    fn owned(&self, id: usize) -> Option<&'static Counts> {
        Some(&self.page(id)?.owned[id % PAGE_LEN])
    }

    /// Like [`Self::owned`], allocating the page if needed. Only the owning thread calls it.
    fn owned_or_alloc(&self, id: usize) -> Option<&'static Counts> {
        Some(&self.page_or_alloc(id)?.owned[id % PAGE_LEN])
    }

    /// How many of this record's guards are inside the state with reader id `id`.
    pub(crate) fn inside(&self, id: usize) -> usize {
        self.page(id).map_or(0, |page| page.refs[id % PAGE_LEN].inside())
    }

    /// Both counts of `id` in this record (for stoppers).
    fn both(&self, id: usize) -> impl Iterator<Item = &'static Counts> {
        self.page(id)
            .into_iter()
            .flat_map(move |page| [&page.refs[id % PAGE_LEN], &page.owned[id % PAGE_LEN]])
    }

    /// No guard of this thread is inside any state (owned counts do not matter: see the
    /// module doc).
    fn is_quiet(&self) -> bool {
        self.pages.iter().all(|slot| {
            let page = slot.load(Ordering::Acquire);
            // SAFETY: see `page`.
            page.is_null() || unsafe { (*page).refs.iter().all(|c| c.inside() == 0) }
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

/// How many readers are inside `cell` (reader id `id`, 0 if it never had one): its shared
/// counts and both counts of `id` in every record, summed as
/// [`ValueCell::readers_inside`] explains.
pub(crate) fn inside_anywhere<T>(cell: &ValueCell<T>, id: usize) -> usize {
    cell.readers_inside(|| {
        all()
            .filter(move |_| id != 0)
            .flat_map(move |record| record.both(id))
    })
}

/// Enters `cell` (reader id `id`, not 0) as an owned handle, which may leave on any thread
/// through [`leave_owned`]: on this thread's owned counts, or the shared counts if it has
/// none. `None` if the value is not there.
#[inline]
pub(crate) fn enter_owned<T>(cell: &ValueCell<T>, id: usize) -> Option<*const T> {
    match owned_counts(id) {
        Some(counts) => cell.enter(counts),
        None => cell.enter_shared(),
    }
}

/// Adds an owned handle of `cell` (reader id `id`) without checking the status.
///
/// # Safety
/// The caller holds a reader of `cell` that is inside until this call returns.
#[inline]
pub(crate) unsafe fn again_owned<T>(cell: &ValueCell<T>, id: usize) {
    match owned_counts(id) {
        // SAFETY: this thread's own counts; the caller's reader is inside.
        Some(counts) => unsafe { counts.again() },
        // SAFETY: the caller's reader is inside.
        None => unsafe { cell.again_shared() },
    }
}

/// Leaves `cell` (reader id `id`) for an owned handle entered with [`enter_owned`] or
/// [`again_owned`], on any thread: this thread's owned exit counter, or the shared counts.
#[inline]
pub(crate) fn leave_owned<T>(cell: &ValueCell<T>, id: usize) {
    match owned_counts(id) {
        Some(counts) => counts.exit(),
        None => cell.exit_shared(),
    }
}

/// This thread's owned counts for `id`, registering the thread or its page if needed.
#[inline(always)]
fn owned_counts(id: usize) -> Option<&'static Counts> {
    match current().and_then(|record| record.owned(id)) {
        Some(counts) => Some(counts),
        None => owned_counts_slow(id),
    }
}

#[cold]
#[inline(never)]
fn owned_counts_slow(id: usize) -> Option<&'static Counts> {
    current_or_register()?.owned_or_alloc(id)
}

/// A state's reader id: a small integer that indexes the per-thread tables, 0 until the
/// state is first read on counts; given back to the pool when the state is dropped.
#[derive(Debug)]
pub(crate) struct ReaderId(std::sync::atomic::AtomicUsize);

impl ReaderId {
    pub(crate) const fn new() -> Self {
        Self(std::sync::atomic::AtomicUsize::new(0))
    }

    /// The id, or 0 if none was assigned yet.
    #[inline(always)]
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// The id, assigning one if needed.
    #[inline(always)]
    pub(crate) fn ensure(&self) -> usize {
        match self.get() {
            0 => self.assign(),
            id => id,
        }
    }

    #[cold]
    #[inline(never)]
    fn assign(&self) -> usize {
        let fresh = ids::allocate();
        match self
            .0
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(winner) => {
                ids::release(fresh);
                winner
            }
        }
    }
}

impl Drop for ReaderId {
    fn drop(&mut self) {
        // Only a dropped state drops its id, when no guard or handle refers to it any more:
        // its counts balance over all records, so the id can be reused.
        let id = *self.0.get_mut();
        if id != 0 {
            ids::release(id);
        }
    }
}

/// Reader ids: small integers that index the per-thread tables. Id 0 means "none yet".
mod ids {
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
