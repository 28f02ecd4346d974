//! What the library remembers per thread besides reader counts: the starts and stops this
//! thread is running (for dependencies, cycles and reentrancy) and its `bind` substitutions.
//!
//! Owns only thread-local bookkeeping, so every other module (the kernel included) may use it.
//!
//! Imports nothing from the crate.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Identity of a state in the library's tables: the address of its core.
pub(crate) type Key = usize;

/// A value bound with `State::bind`, visible on this thread only.
pub(crate) type Bound = Arc<dyn Any + Send + Sync>;

thread_local! {
    /// Non-zero while this thread starts or stops a state, has a binding or an isolation
    /// scope: reads must take the slow path then. No destructor, so the fast path reads it with a plain TLS load.
    static SLOW: Cell<u32> = const { Cell::new(0) };
    static ACTIVE: RefCell<Vec<(Key, Activity)>> = const { RefCell::new(Vec::new()) };
    static BINDINGS: RefCell<Vec<(Key, Bound)>> = const { RefCell::new(Vec::new()) };
}

/// True if reads on this thread can skip dependency tracking and bindings.
#[inline(always)]
pub(crate) fn is_plain() -> bool {
    SLOW.with(|slow| slow.get() == 0)
}

/// Adds `delta` to this thread's reasons to take the slow path (an installed isolation scope
/// is one, see `isolation`).
pub(crate) fn slow_add(delta: i32) {
    SLOW.with(|slow| slow.set(slow.get().wrapping_add_signed(delta)));
}

/// Ends a guard's entry in one of this thread's stacks: removes the newest entry that is
/// `its` (if the thread-local is still there) and takes back the guard's slow-path reason.
fn unmark<E: 'static>(
    stack: &'static std::thread::LocalKey<RefCell<Vec<E>>>,
    its: impl Fn(&E) -> bool,
) {
    let _ = stack.try_with(|stack| {
        let mut stack = stack.borrow_mut();
        if let Some(at) = stack.iter().rposition(its) {
            stack.remove(at);
        }
    });
    slow_add(-1);
}

/// What a thread is doing to a state: running its start or its stop function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    Start,
    Stop,
}

/// Marks `key` as being started by this thread until the returned guard drops.
pub(crate) fn starting(key: Key) -> ActiveGuard {
    mark(key, Activity::Start)
}

/// Marks `key` as being stopped by this thread (its stop function runs) until the guard drops.
pub(crate) fn stopping(key: Key) -> ActiveGuard {
    mark(key, Activity::Stop)
}

fn mark(key: Key, activity: Activity) -> ActiveGuard {
    ACTIVE.with(|stack| stack.borrow_mut().push((key, activity)));
    slow_add(1);
    ActiveGuard { key, activity }
}

pub(crate) struct ActiveGuard {
    key: Key,
    activity: Activity,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let mark = (self.key, self.activity);
        unmark(&ACTIVE, |entry| *entry == mark);
    }
}

/// The state this thread is starting right now (the innermost activity, if it is a start).
pub(crate) fn innermost_starting() -> Option<Key> {
    ACTIVE
        .try_with(|stack| match stack.borrow().last() {
            Some((key, Activity::Start)) => Some(*key),
            _ => None,
        })
        .ok()
        .flatten()
}

/// The state whose start or stop this thread runs innermost, if any.
pub(crate) fn innermost_active() -> Option<Key> {
    ACTIVE
        .try_with(|stack| stack.borrow().last().map(|(key, _)| *key))
        .ok()
        .flatten()
}

/// What this thread is doing to `key` (its innermost activity on it), if anything.
pub(crate) fn activity(key: Key) -> Option<Activity> {
    ACTIVE
        .try_with(|stack| {
            stack
                .borrow()
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, activity)| *activity)
        })
        .ok()
        .flatten()
}

/// The states this thread is starting or stopping from `key` inwards, if it is busy with `key`.
pub(crate) fn active_from(key: Key) -> Option<Vec<Key>> {
    ACTIVE
        .try_with(|stack| {
            let stack = stack.borrow();
            let at = stack.iter().position(|(k, _)| *k == key)?;
            Some(stack[at..].iter().map(|(k, _)| *k).collect())
        })
        .ok()
        .flatten()
}

/// Binds `value` to `key` on this thread until the returned guard drops.
pub(crate) fn bind(key: Key, value: Bound) -> BindingGuard {
    BINDINGS.with(|bindings| bindings.borrow_mut().push((key, Arc::clone(&value))));
    slow_add(1);
    BindingGuard { key, value }
}

/// The innermost binding of `key` on this thread.
pub(crate) fn bound(key: Key) -> Option<Bound> {
    BINDINGS
        .try_with(|bindings| {
            bindings
                .borrow()
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| Arc::clone(v))
        })
        .ok()
        .flatten()
}

/// This thread's bindings, innermost last, to lend to a thread that works on its behalf.
pub(crate) fn bindings() -> Vec<(Key, Bound)> {
    BINDINGS
        .try_with(|bindings| bindings.borrow().clone())
        .unwrap_or_default()
}

/// Installs `lent` (from [`bindings`] of another thread) on this thread until the guards drop.
pub(crate) fn lend(lent: Vec<(Key, Bound)>) -> Vec<BindingGuard> {
    lent.into_iter()
        .map(|(key, value)| bind(key, value))
        .collect()
}

/// Ends one binding; bindings of the same state nest like scopes.
pub(crate) struct BindingGuard {
    key: Key,
    value: Bound,
}

impl Drop for BindingGuard {
    fn drop(&mut self) {
        unmark(&BINDINGS, |(k, v)| {
            *k == self.key && Arc::ptr_eq(v, &self.value)
        });
    }
}
