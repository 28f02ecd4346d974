//! [`Atom<T>`]: a shared, swappable reference to an immutable value — Clojure's atom, the
//! container of a running server in the atom-based restart pattern.
//!
//! Readers take a snapshot (an `Arc<T>`) and keep it as long as they like; writers replace
//! the whole value. `swap` computes the new value from the current one outside any lock and
//! retries if another writer got in between, like Clojure's `swap!`, so its function may run
//! more than once and should not have side effects.
//!
//! A `RwLock<Option<Arc<T>>>` from `std` is enough here: the lock is held only to clone or
//! replace an `Arc` (never while user code runs), and an atom holding a server is read far
//! too rarely for a lock-free cell (such as `arc-swap`) to pay for a dependency.
//!
//! Imports `error`, `kernel` (the stop timeout) and `resource`; must not import the crate root
//! (only the root imports it).

use crate::error::Error;
use crate::kernel::stop_timeout;
use crate::resource::Resource;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// A shared reference to an immutable value, replaced as a whole: `reset`, `swap`, `load`.
///
/// ```
/// use lifecycle::Atom;
///
/// static HITS: Atom<u64> = Atom::empty();
///
/// assert!(HITS.load().is_none());
/// HITS.reset(1);
/// let hits = HITS.swap(|hits| hits.map_or(1, |n| n + 1));   // retried if contended
/// assert_eq!(*hits, 2);
/// assert_eq!(HITS.load().as_deref(), Some(&2));
/// ```
///
/// The restart pattern keeps a running server in an atom:
///
/// ```
/// use lifecycle::Atom;
///
/// struct Server { port: u16 }
/// impl Server {
///     fn start(port: u16) -> Server { Server { port } }
///     fn stop(&self) { println!("stopping :{}", self.port) }
/// }
///
/// static SERVER: Atom<Server> = Atom::empty();
///
/// fn app_server_start(port: u16) {
///     if SERVER.load().is_none() {
///         SERVER.reset(Server::start(port));
///     }
/// }
/// fn app_server_stop() {
///     if let Some(server) = SERVER.take() {
///         server.stop();
///     }
/// }
/// fn app_server_restart(port: u16) {
///     app_server_stop();
///     app_server_start(port);
/// }
///
/// app_server_start(8888);
/// app_server_restart(8889);
/// assert_eq!(SERVER.load().map(|s| s.port), Some(8889));
/// app_server_stop();
/// ```
pub struct Atom<T> {
    value: RwLock<Option<Arc<T>>>,
}

impl<T> Atom<T> {
    /// An empty atom; `const`, so it can initialize a `static`.
    pub const fn empty() -> Self {
        Self {
            value: RwLock::new(None),
        }
    }

    /// An atom holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            value: RwLock::new(Some(Arc::new(value))),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Arc<T>>> {
        // No user code runs under the lock, so it is never poisoned in practice.
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<Arc<T>>> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A snapshot of the current value (Clojure's `deref`/`@`), or `None` if empty.
    #[doc(alias = "deref")]
    pub fn load(&self) -> Option<Arc<T>> {
        self.read().clone()
    }

    /// True if the atom holds no value.
    pub fn is_empty(&self) -> bool {
        self.read().is_none()
    }

    /// Sets the value; returns the previous one.
    pub fn reset(&self, value: T) -> Option<Arc<T>> {
        self.replace(Some(Arc::new(value)))
    }

    /// Empties the atom; returns the value it held.
    pub fn take(&self) -> Option<Arc<T>> {
        self.replace(None)
    }

    fn replace(&self, value: Option<Arc<T>>) -> Option<Arc<T>> {
        // The old value is returned, so it is dropped by the caller, outside the lock.
        std::mem::replace(&mut *self.write(), value)
    }

    /// Sets the value to `f(current)` and returns it. If another thread changed the value
    /// while `f` ran, `f` runs again on the newer value (like Clojure's `swap!`), so `f` should
    /// be free of side effects.
    pub fn swap(&self, mut f: impl FnMut(Option<&T>) -> T) -> Arc<T> {
        loop {
            let current = self.load();
            let next = Arc::new(f(current.as_deref()));
            if self.compare_and_set_arc(current.as_ref(), Some(Arc::clone(&next))) {
                return next;
            }
        }
    }

    /// Like [`swap`](Self::swap), where `f` may also empty the atom (by returning `None`).
    /// Returns the new value.
    pub fn update(&self, mut f: impl FnMut(Option<&T>) -> Option<T>) -> Option<Arc<T>> {
        loop {
            let current = self.load();
            let next = f(current.as_deref()).map(Arc::new);
            if self.compare_and_set_arc(current.as_ref(), next.clone()) {
                return next;
            }
        }
    }

    /// Sets the value to `new` if the atom still holds `current` (the same snapshot, by
    /// identity; `None` for empty). Returns whether it did (Clojure's `compare-and-set!`).
    pub fn compare_and_set(&self, current: Option<&Arc<T>>, new: Option<T>) -> bool {
        self.compare_and_set_arc(current, new.map(Arc::new))
    }

    fn compare_and_set_arc(&self, current: Option<&Arc<T>>, new: Option<Arc<T>>) -> bool {
        let mut value = self.write();
        let same = match (&*value, current) {
            (None, None) => true,
            // The caller holds `current`, so its address cannot have been reused (no ABA).
            (Some(held), Some(current)) => Arc::ptr_eq(held, current),
            _ => false,
        };
        let old = if same {
            Some(std::mem::replace(&mut *value, new))
        } else {
            None
        };
        drop(value);
        drop(old);
        same
    }
}

impl<T: Resource> Atom<T> {
    /// Takes the value out and closes it. Waits (up to the [stop
    /// timeout](crate::stop_timeout)) for snapshots from [`load`](Self::load) to be dropped,
    /// since `close` needs the value itself; if they are not, the value is put back and
    /// [`Error::CloseInUse`] is returned. `Ok(())` if the atom was empty.
    pub fn close(&self) -> Result<(), Error> {
        self.close_within(stop_timeout())
    }

    /// Like [`close`](Self::close), waiting at most `timeout` for snapshots.
    pub fn close_within(&self, timeout: Duration) -> Result<(), Error> {
        let Some(mut value) = self.take() else {
            return Ok(());
        };
        let began = Instant::now();
        loop {
            match Arc::try_unwrap(value) {
                Ok(value) => return value.close(),
                Err(shared) => value = shared,
            }
            let waited = began.elapsed();
            if waited >= timeout {
                // Put it back unless someone set a new value meanwhile (then it is dropped).
                let mut slot = self.write();
                if slot.is_none() {
                    *slot = Some(value);
                } else {
                    drop(slot);
                    drop(value);
                }
                return Err(Error::CloseInUse {
                    resource: format!("Atom<{}>", std::any::type_name::<T>()),
                    waited,
                });
            }
            std::thread::sleep(Duration::from_millis(1).min(timeout - waited));
        }
    }
}

/// A static atom is a resource: closing it closes its value (see [`Atom::close`]). This is
/// what `lifecycle::close_on_shutdown(&SERVER)` uses.
impl<T: Resource> Resource for &'static Atom<T> {
    fn close(self) -> Result<(), Error> {
        Atom::close(self)
    }
}

impl<T> Default for Atom<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: fmt::Debug> fmt::Debug for Atom<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Atom").field(&self.load()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn swap_retries_until_no_one_got_in_between() {
        let atom = Arc::new(Atom::new(0_u64));
        let calls = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let atom = Arc::clone(&atom);
                let calls = Arc::clone(&calls);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        atom.swap(|n| {
                            calls.fetch_add(1, Ordering::Relaxed);
                            n.copied().unwrap_or(0) + 1
                        });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(atom.load().as_deref(), Some(&4000));
        assert!(calls.load(Ordering::Relaxed) >= 4000);
    }

    #[test]
    fn compare_and_set_compares_snapshots_by_identity() {
        let atom = Atom::new(String::from("a"));
        let first = atom.load();
        assert!(atom.compare_and_set(first.as_ref(), Some("b".into())));
        assert!(!atom.compare_and_set(first.as_ref(), Some("c".into())));
        assert_eq!(atom.load().as_deref().map(String::as_str), Some("b"));
        assert!(!atom.compare_and_set(None, Some("d".into())));
        atom.take();
        assert!(atom.compare_and_set(None, Some("e".into())));
        assert_eq!(atom.update(|_| None), None);
        assert!(atom.is_empty());
    }
}
