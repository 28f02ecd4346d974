//! What an async state's `get().await` hands out: [`AsyncRef`], a `Send + 'static` guard.
//!
//! Imports `kernel` (the reader counts), `state` (its printing macro) and `thread`; must not
//! import `diagnostics`, `stop_kind` or `private`, which are built on `async_state`.

use super::core::AsyncCore;
use crate::thread::Bound;
use std::ops::Deref;
use std::ptr::NonNull;
use crate::kernel::readers;
use std::sync::Arc;

/// A read guard on an async state's value, from
/// [`AsyncState::get`](crate::AsyncState::get).
///
/// It is `Send + 'static`: hold it across `.await`s, move it into `tokio::spawn`, clone it for
/// other tasks. While any guard of a state is alive, stopping it waits (bounded by the stop
/// timeout), so the value never dangles.
pub struct AsyncRef<T: Send + Sync + 'static> {
    value: NonNull<T>,
    keep: Keep<T>,
}

pub(crate) enum Keep<T: Send + Sync + 'static> {
    Static(&'static AsyncCore<T>),
    Local(Arc<AsyncCore<T>>),
    /// A `bind` substitution or a value private to an isolation scope, kept alive by the
    /// guard (no reader count: it never entered the cell).
    Bound(Bound),
}

impl<T: Send + Sync + 'static> Keep<T> {
    /// The core whose reader counts this guard entered on (none for a binding).
    fn counted(&self) -> Option<&AsyncCore<T>> {
        match self {
            Keep::Static(core) => Some(core),
            Keep::Local(core) => Some(core),
            Keep::Bound(_) => None,
        }
    }
}

// SAFETY: an `AsyncRef` gives out `&T` (needs `T: Sync`) and may be dropped on any thread,
// which counts its exit on that thread's own counts (or the shared ones); the value is moved out
// by the stopper, possibly on another thread (needs `T: Send`). Both are required by the
// struct's bounds.
unsafe impl<T: Send + Sync + 'static> Send for AsyncRef<T> {}
// SAFETY: as above: `&AsyncRef` only gives out `&T`.
unsafe impl<T: Send + Sync + 'static> Sync for AsyncRef<T> {}

impl<T: Send + Sync + 'static> AsyncRef<T> {
    /// A guard over a reader already entered on `keep`'s counts, at `value`.
    pub(crate) fn entered(value: *const T, keep: Keep<T>) -> Self {
        Self {
            value: NonNull::new(value.cast_mut()).expect("a state's value has an address"),
            keep,
        }
    }

    /// A guard over a private value of an isolation scope, at `value` inside `private`.
    pub(crate) fn private(value: &T, private: Bound) -> Self {
        Self {
            value: NonNull::from(value),
            keep: Keep::Bound(private),
        }
    }

    /// A guard over a value bound with `AsyncState::bind`, if `bound` holds a `T`.
    pub(crate) fn bound(bound: Bound) -> Option<Self> {
        let value: *const T = bound.downcast_ref::<T>()?;
        Some(Self::entered(value, Keep::Bound(bound)))
    }
}

impl<T: Send + Sync + 'static> Deref for AsyncRef<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: entered on the counts of a core this guard keeps alive (a static, or an
        // `Arc` it owns); stop waits until every entry has its exit before it moves the
        // value out. A bound value lives in the `Arc` this guard keeps. A private value lives
        // in the `Arc` this guard holds, which the scope's teardown takes the value out of only
        // when no other `Arc` of it is left.
        unsafe { self.value.as_ref() }
    }
}

impl<T: Send + Sync + 'static> Clone for AsyncRef<T> {
    fn clone(&self) -> Self {
        if let Some(core) = self.keep.counted() {
            // SAFETY: this guard is inside until it drops, after this call: a stopper cannot
            // see every exit before this guard's, and will count this entry before then.
            unsafe { readers::again_owned(&core.cell, core.reader_id()) };
        }
        let keep = match &self.keep {
            Keep::Static(core) => Keep::Static(core),
            Keep::Local(core) => Keep::Local(Arc::clone(core)),
            Keep::Bound(bound) => Keep::Bound(Arc::clone(bound)),
        };
        Self {
            value: self.value,
            keep,
        }
    }
}

impl<T: Send + Sync + 'static> Drop for AsyncRef<T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(core) = self.keep.counted() {
            readers::leave_owned(&core.cell, core.reader_id());
        }
    }
}

crate::state::printed_as_value!(AsyncRef<T>, T: Send + Sync + 'static);
