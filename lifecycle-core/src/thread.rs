//! What the library remembers per thread besides reader counts: the states this thread is
//! starting (for dependencies and cycles) and its `bind` substitutions.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Identity of a state in the library's tables: the address of its core.
pub(crate) type Key = usize;

/// A value bound with `State::bind`, visible on this thread only.
pub(crate) type Bound = Arc<dyn Any + Send + Sync>;

thread_local! {
    /// Non-zero while this thread starts a state or has a binding: reads must take the slow
    /// path then. No destructor, so the fast path reads it with a plain TLS load.
    static SLOW: Cell<u32> = const { Cell::new(0) };
    static STARTING: RefCell<Vec<Key>> = const { RefCell::new(Vec::new()) };
    static BINDINGS: RefCell<Vec<(Key, Bound)>> = const { RefCell::new(Vec::new()) };
}

/// True if reads on this thread can skip dependency tracking and bindings.
#[inline(always)]
pub(crate) fn is_plain() -> bool {
    SLOW.with(|slow| slow.get() == 0)
}

fn slow_add(delta: i32) {
    SLOW.with(|slow| slow.set(slow.get().wrapping_add_signed(delta)));
}

/// Marks `key` as being started by this thread until the returned guard drops.
pub(crate) fn starting(key: Key) -> StartingGuard {
    STARTING.with(|stack| stack.borrow_mut().push(key));
    slow_add(1);
    StartingGuard { key }
}

pub(crate) struct StartingGuard {
    key: Key,
}

impl Drop for StartingGuard {
    fn drop(&mut self) {
        let _ = STARTING.try_with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(at) = stack.iter().rposition(|k| *k == self.key) {
                stack.remove(at);
            }
        });
        slow_add(-1);
    }
}

/// The state this thread is starting right now (the innermost), if any.
pub(crate) fn innermost_starting() -> Option<Key> {
    STARTING
        .try_with(|stack| stack.borrow().last().copied())
        .ok()
        .flatten()
}

/// The states this thread is starting from `key` inwards, if it is starting `key`.
pub(crate) fn starting_from(key: Key) -> Option<Vec<Key>> {
    STARTING
        .try_with(|stack| {
            let stack = stack.borrow();
            let at = stack.iter().position(|k| *k == key)?;
            Some(stack[at..].to_vec())
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

/// Ends one binding; bindings of the same state nest like scopes.
pub(crate) struct BindingGuard {
    key: Key,
    value: Bound,
}

impl Drop for BindingGuard {
    fn drop(&mut self) {
        let _ = BINDINGS.try_with(|bindings| {
            let mut bindings = bindings.borrow_mut();
            if let Some(at) = bindings
                .iter()
                .rposition(|(k, v)| *k == self.key && Arc::ptr_eq(v, &self.value))
            {
                bindings.remove(at);
            }
        });
        slow_add(-1);
    }
}
