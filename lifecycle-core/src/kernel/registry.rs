//! The realized states, in realization order, with O(1) insert and remove, and [`Tracked`],
//! what the registry knows of each entry.
//!
//! A doubly linked list threaded through a slab (`Vec` of nodes plus a free list) and an index
//! from key to node, so `stop()` of one state among 100k costs the same as among ten.
//!
//! Imports `error`, `info` and `thread`; must not import `state` or `async_state`.

use super::restarted::Restarted;
use super::phases::StopClaim;
use crate::error::Error;
use crate::info::StateInfo;
use crate::thread::Key;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A boxed, `Send` future: what async start and stop functions are stored as.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something `status()` lists and `stop()` stops: a realized state or a defined resource.
pub(crate) trait Tracked: Send + Sync + 'static {
    fn info(&self) -> &StateInfo;
    /// True if its value is there (resources and shutdown entries are, while registered).
    fn is_realized(&self) -> bool {
        true
    }
    /// Stops it. `force`: clear it even if its stop function fails or panics.
    fn stop_tracked(&self, force: bool) -> Result<(), Error>;
    /// Stops it for a caller that may give up on it (`stop()`'s bound): the stop's ticket
    /// goes to `claim`, so giving up marks failed this stop and no other.
    /// `timeout`: how long it waits for guards (states; others ignore it).
    fn stop_claimed(&self, claim: &StopClaim, timeout: Duration) -> Result<(), Error> {
        let _ = (claim, timeout);
        self.stop_tracked(false)
    }

    /// Starts it again (a restart bringing back its dependents); resources cannot.
    /// `handle` is the registry's handle on it.
    fn start_tracked(&self, handle: &Handle) -> Result<(), Error> {
        let _ = handle;
        Ok(())
    }

    /// [`Self::start_tracked`] from async code; async states start without blocking.
    fn start_tracked_async<'a>(&'a self, handle: &'a Handle) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { self.start_tracked(handle) })
    }

    /// Stops it from async code (`stop_async`), waiting at most `timeout` for its guards.
    ///
    /// Async states stop without blocking the thread; everything else keeps this default,
    /// which runs the sync stop when the future is polled.
    fn stop_tracked_async(&self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        let _ = timeout;
        Box::pin(async move { self.stop_tracked(false) })
    }

    /// Reloads it (see `kernel::reload`): states start a new value beside the old one and
    /// swap it in; everything else has nothing to reload.
    fn reload_tracked(&self) -> BoxFuture<'_, Result<Restarted, Error>> {
        Box::pin(async { Ok(Restarted::default()) })
    }

    /// True if the calling thread holds a guard on it (a stop from here would wait forever).
    fn held_by_current_thread(&self) -> bool {
        false
    }

    /// The addresses of its start and stop functions, as a hot-patch jump table knows them
    /// (see `code`); none for resources.
    #[cfg(feature = "hot")]
    fn code(&self) -> Vec<u64> {
        Vec::new()
    }
}

/// How the registry holds a tracked thing: statics by reference, local states by `Arc`.
#[derive(Clone)]
pub(crate) enum Handle {
    Static(&'static dyn Tracked),
    Shared(Arc<dyn Tracked>),
}

impl Handle {
    /// True if nothing but this handle keeps a local state alive (its `State` was dropped):
    /// nothing should start it again.
    pub(crate) fn is_orphan(&self) -> bool {
        matches!(self, Handle::Shared(tracked) if Arc::strong_count(tracked) == 1)
    }

    pub(crate) fn get(&self) -> &dyn Tracked {
        match self {
            Handle::Static(tracked) => *tracked,
            Handle::Shared(tracked) => &**tracked,
        }
    }
}

const NIL: usize = usize::MAX;

struct Node {
    entry: Option<(Key, Handle)>,
    prev: usize,
    next: usize,
}

#[derive(Default)]
pub(crate) struct Registry {
    nodes: Vec<Node>,
    free: Vec<usize>,
    index: HashMap<Key, usize>,
    head: Option<usize>,
    tail: Option<usize>,
}

impl Registry {
    /// Appends `key` (the newest realization). A key already present moves to the end.
    pub(crate) fn push(&mut self, key: Key, handle: Handle) -> Option<Handle> {
        let old = self.remove(key);
        let node = Node {
            entry: Some((key, handle)),
            prev: self.tail.unwrap_or(NIL),
            next: NIL,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.nodes[at] = node;
                at
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        match self.tail {
            Some(tail) => self.nodes[tail].next = at,
            None => self.head = Some(at),
        }
        self.tail = Some(at);
        self.index.insert(key, at);
        old
    }

    /// Removes `key`; the caller drops the handle after releasing the world lock (dropping the
    /// last handle of a local state runs its destructor, which takes the lock again).
    #[must_use = "drop the handle outside the world lock"]
    pub(crate) fn remove(&mut self, key: Key) -> Option<Handle> {
        let at = self.index.remove(&key)?;
        let Node { entry, prev, next } = std::mem::replace(
            &mut self.nodes[at],
            Node {
                entry: None,
                prev: NIL,
                next: NIL,
            },
        );
        if prev == NIL {
            self.head = (next != NIL).then_some(next);
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = (prev != NIL).then_some(prev);
        } else {
            self.nodes[next].prev = prev;
        }
        self.free.push(at);
        entry.map(|(_, handle)| handle)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Every entry, oldest realization first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Key, &Handle)> + '_ {
        let mut at = self.head.unwrap_or(NIL);
        std::iter::from_fn(move || {
            let node = self.nodes.get(at)?;
            at = node.next;
            node.entry.as_ref().map(|(key, handle)| (*key, handle))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy(StateInfo);
    impl Tracked for Dummy {
        fn info(&self) -> &StateInfo {
            &self.0
        }
        fn stop_tracked(&self, _: bool) -> Result<(), Error> {
            Ok(())
        }
    }

    fn handle(name: &'static str) -> Handle {
        Handle::Shared(Arc::new(Dummy(StateInfo::named(name))))
    }

    fn names(registry: &Registry) -> Vec<String> {
        registry
            .iter()
            .map(|(_, h)| h.get().info().name().to_owned())
            .collect()
    }

    #[test]
    fn keeps_insertion_order_through_removals_and_reuse() {
        let mut registry = Registry::default();
        for (key, name) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] {
            assert!(registry.push(key, handle(name)).is_none());
        }
        assert!(registry.remove(1).is_some());
        assert!(registry.remove(3).is_some());
        assert!(registry.remove(3).is_none());
        registry.push(5, handle("e"));
        registry.push(2, handle("b2"));
        assert_eq!(names(&registry), ["d", "e", "b2"]);
        assert!(registry.remove(2).is_some());
        assert!(registry.remove(4).is_some());
        assert!(registry.remove(5).is_some());
        assert_eq!(registry.len(), 0);
        assert!(names(&registry).is_empty());
        registry.push(6, handle("f"));
        assert_eq!(names(&registry), ["f"]);
    }
}
