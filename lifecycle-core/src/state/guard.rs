//! What `get` hands out: a scoped guard [`Ref`] and a movable handle [`Owned`].
//!
//! Imports `kernel` (the reader counts) and `thread`; must not import `async_state` or the
//! resources built on states (`resource`, `scope`, `slot`, `atom`, `shutdown`).

use super::core::Core;
use crate::kernel::cell::Counts;
use crate::kernel::readers;
use crate::thread::Bound;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

/// A read guard on a state's value, from [`State::get`](crate::State::get).
///
/// While any guard (or [`Owned`] handle) of a state is alive, stopping it waits, so the value
/// never dangles. A guard stays on the thread that made it (it is not `Send`); use
/// [`State::get_owned`](crate::State::get_owned) to move access across threads or `.await`s.
pub struct Ref<'a, T: ?Sized> {
    value: ValuePtr<T>,
    release: Release<'a>,
    /// Borrows like `&'a T`; the marker makes it `!Send`, because it leaves on the
    /// per-thread counts it entered on.
    _marker: PhantomData<(&'a T, UseGetOwnedToHoldAStateAcrossAwait)>,
}

/// The one field that keeps a [`Ref`] on its thread, so a guard held across `.await` in a
/// `Send` task (`tokio::spawn`) is one error, naming `Ref` — hold
/// [`State::get_owned`](crate::State::get_owned) there instead.
pub(crate) struct UseGetOwnedToHoldAStateAcrossAwait(#[allow(dead_code)] *const ());

/// The guard's pointer to the value. Not the reason a [`Ref`] stays on its thread (the
/// marker is), so that a guard held across `.await` gives one error, not two.
struct ValuePtr<T: ?Sized>(NonNull<T>);

// SAFETY: a `ValuePtr` is only dereferenced as `&T`, which may be used from any thread when
// `T: Sync`; whether the guard holding it may move is decided by the guard's marker.
unsafe impl<T: ?Sized + Sync> Send for ValuePtr<T> {}

enum Release<'a> {
    /// Entered on this thread's own counts.
    Counts(&'static Counts),
    /// Entered on the state's shared counts.
    Shared(&'a Counts),
    /// A `bind` substitution, kept alive by this guard.
    Bound(#[allow(dead_code)] Bound),
}

// SAFETY: sharing `&Ref` across threads only gives out `&T`, which needs `T: Sync`; leaving
// (in `Drop`) needs the owning thread, and `Ref` is not `Send`, so drop happens there.
unsafe impl<T: ?Sized + Sync> Sync for Ref<'_, T> {}

impl<'a, T> Ref<'a, T> {
    #[inline(always)]
    pub(crate) fn counted(value: *const T, counts: &'static Counts) -> Self {
        Self {
            value: ValuePtr(non_null(value)),
            release: Release::Counts(counts),
            _marker: PhantomData,
        }
    }

    pub(crate) fn shared(value: *const T, shared: &'a Counts) -> Self {
        Self {
            value: ValuePtr(non_null(value)),
            release: Release::Shared(shared),
            _marker: PhantomData,
        }
    }

    pub(crate) fn bound(value: &T, keep: Bound) -> Self {
        Self {
            value: ValuePtr(NonNull::from(value)),
            release: Release::Bound(keep),
            _marker: PhantomData,
        }
    }
}

fn non_null<T>(value: *const T) -> NonNull<T> {
    NonNull::new(value.cast_mut()).expect("a state's value has an address")
}

impl<T: ?Sized> Deref for Ref<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the pointer came from a successful enter (or a bound `Arc` this guard
        // keeps), and stop waits for this guard's exit before it moves the value out.
        unsafe { self.value.0.as_ref() }
    }
}

impl<T: ?Sized> Drop for Ref<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        match &self.release {
            Release::Counts(counts) => counts.exit(),
            Release::Shared(shared) => shared.exit_atomic(),
            Release::Bound(_) => {}
        }
    }
}

super::printed_as_value!(Ref<'_, T>, T: ?Sized);

/// An owned handle to a state's value, from [`State::get_owned`](crate::State::get_owned):
/// `Send + 'static`, so it can cross `.await` points and move to other threads.
///
/// Stop waits for owned handles exactly like for [`Ref`] guards.
pub struct Owned<T: Send + Sync + 'static> {
    value: NonNull<T>,
    keep: Keep<T>,
}

enum Keep<T: Send + Sync + 'static> {
    Static(&'static Core<T>),
    Local(Arc<Core<T>>),
    Bound(#[allow(dead_code)] Bound),
}

// SAFETY: an `Owned` gives out `&T` (needs `T: Sync`) and may be dropped on any thread, which
// counts its exit on that thread's own counts (or the shared ones); the value itself is moved by the stopper, which
// needs `T: Send` — both are required by the struct's bounds.
unsafe impl<T: Send + Sync + 'static> Send for Owned<T> {}
// SAFETY: as above: `&Owned` only gives out `&T`.
unsafe impl<T: Send + Sync + 'static> Sync for Owned<T> {}

impl<T: Send + Sync + 'static> Owned<T> {
    pub(crate) fn from_static(value: *const T, core: &'static Core<T>) -> Self {
        Self {
            value: non_null(value),
            keep: Keep::Static(core),
        }
    }

    pub(crate) fn from_local(value: *const T, core: Arc<Core<T>>) -> Self {
        Self {
            value: non_null(value),
            keep: Keep::Local(core),
        }
    }

    pub(crate) fn bound(value: &T, keep: Bound) -> Self {
        Self {
            value: NonNull::from(value),
            keep: Keep::Bound(keep),
        }
    }
}

impl<T: Send + Sync + 'static> Deref for Owned<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: entered (`readers::enter_owned`) on a core this handle keeps alive; stop
        // waits until every entry has its exit before moving the value out.
        unsafe { self.value.as_ref() }
    }
}

impl<T: Send + Sync + 'static> Drop for Owned<T> {
    #[inline]
    fn drop(&mut self) {
        let core: &Core<T> = match &self.keep {
            Keep::Static(core) => core,
            Keep::Local(core) => core,
            Keep::Bound(_) => return,
        };
        readers::leave_owned(&core.cell, core.reader_id());
    }
}

super::printed_as_value!(Owned<T>, T: Send + Sync + 'static);
