//! The world lock: who is starting or stopping what, who waits for whom, what is realized.
//!
//! Only slow paths (start, stop, bookkeeping) take this lock, and never while user code runs.
//! Waiting for another thread's start or stop uses one condition variable, and before a thread
//! waits it walks the wait-for chain: if that chain comes back to a state this thread is
//! starting, the wait would never end, so it is a start cycle and an error instead.

use crate::async_state::AsyncWorld;
use crate::graph::Edges;
use crate::info::StateInfo;
use crate::registry::{Handle, Registry};
use crate::thread::Key;
use std::collections::HashMap;
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

#[derive(Clone, Debug)]
pub(crate) enum Phase {
    Starting(ThreadId),
    Stopping(ThreadId),
    /// The stop function failed; the value is gone and `force_close` must clear it.
    Failed(String),
}

#[derive(Default)]
pub(crate) struct World {
    phases: HashMap<Key, (Phase, StateInfo)>,
    waiting: HashMap<ThreadId, Key>,
    pub(crate) registry: Registry,
    pub(crate) edges: Edges,
    /// Phases, waiters and waits of async states (see `async_state::world`).
    pub(crate) asyncs: AsyncWorld,
}

static WORLD: LazyLock<Mutex<World>> = LazyLock::new(Mutex::default);
static CHANGED: Condvar = Condvar::new();

/// Locks the world. No user code runs under this lock, so it is never poisoned in practice,
/// and if it were, the data is still consistent at every unlock.
pub(crate) fn world() -> MutexGuard<'static, World> {
    WORLD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakes every waiter after a phase change.
pub(crate) fn notify() {
    CHANGED.notify_all();
}

/// Marks a stop that `stop()` gave up on as failed, so readers get an error instead of waiting
/// for it forever. If the stop returns later, it finishes the job (see `Core::stop`).
pub(crate) fn abandon_stop(key: Key, cause: String) {
    let mut world = world();
    if let Some((phase @ Phase::Stopping(_), _)) = world.phases.get_mut(&key) {
        *phase = Phase::Failed(cause);
    }
    drop(world);
    notify();
}

/// Records that the start running on this thread (or in this poll) read the state `key`.
pub(crate) fn record_dependency(key: Key, info: &StateInfo) {
    let Some(dependent) = crate::thread::innermost_starting() else {
        return;
    };
    if dependent == key {
        return;
    }
    let mut world = world();
    let Some(dependent_info) = world.starting_info(dependent) else {
        return;
    };
    world
        .edges
        .record((dependent, &dependent_info), (key, info));
}

impl World {
    pub(crate) fn phase(&self, key: Key) -> Option<&Phase> {
        self.phases.get(&key).map(|(phase, _)| phase)
    }

    pub(crate) fn set_phase(&mut self, key: Key, phase: Phase, info: &StateInfo) {
        self.phases.insert(key, (phase, info.clone()));
    }

    /// True if `key` is still being stopped by `me` (not abandoned or force-closed meanwhile).
    pub(crate) fn is_stopping_by(&self, key: Key, me: ThreadId) -> bool {
        matches!(self.phase(key), Some(Phase::Stopping(owner)) if *owner == me)
    }

    pub(crate) fn clear_phase(&mut self, key: Key) {
        self.phases.remove(&key);
    }

    /// The info of a state that is starting right now (sync or async).
    pub(crate) fn starting_info(&self, key: Key) -> Option<StateInfo> {
        self.phases
            .get(&key)
            .map(|(_, info)| info)
            .or_else(|| self.asyncs.starting_info(key))
            .cloned()
    }

    pub(crate) fn name(&self, key: Key) -> String {
        self.phases
            .get(&key)
            .map(|(_, info)| info)
            .or_else(|| self.asyncs.info(key))
            .map_or_else(|| format!("#{key:x}"), |info| info.name().to_owned())
    }

    /// Waits for a phase change on behalf of `me`, who waits for `key`.
    pub(crate) fn wait_for(
        mut this: MutexGuard<'static, World>,
        me: ThreadId,
        key: Key,
    ) -> MutexGuard<'static, World> {
        this.waiting.insert(me, key);
        let mut this = CHANGED.wait(this).unwrap_or_else(PoisonError::into_inner);
        this.waiting.remove(&me);
        this
    }

    /// If `me` waiting for `key` would close a cycle, the names of that cycle.
    ///
    /// `own_stack(k)` gives the states `me` is starting from `k` inwards.
    pub(crate) fn wait_cycle(
        &self,
        me: ThreadId,
        key: Key,
        own_stack: impl Fn(Key) -> Option<Vec<Key>>,
    ) -> Option<Vec<String>> {
        let mut chain = vec![key];
        let mut at = key;
        loop {
            // A stop holds its phase while its stop function runs, which may read states:
            // a chain through a stopper is as much a wait as one through a starter.
            let owner = match self.phase(at)? {
                Phase::Starting(owner) | Phase::Stopping(owner) => *owner,
                Phase::Failed(_) => return None,
            };
            if owner == me {
                // `at` is one of ours: our stack from `at` inwards, then what we wait for.
                let mut keys = own_stack(at).unwrap_or_else(|| vec![at]);
                keys.extend(chain);
                return Some(keys.into_iter().map(|k| self.name(k)).collect());
            }
            at = *self.waiting.get(&owner)?;
            if chain.contains(&at) {
                return None; // a cycle among other threads; each of them will see it
            }
            chain.push(at);
        }
    }

    /// The realized states whose start read `key`, directly or through others, in the order
    /// to stop them: dependents first, otherwise newest first.
    pub(crate) fn dependents_to_stop(&self, key: Key) -> Vec<Handle> {
        let dependents = self.edges.dependents(key);
        let mut realized: Vec<(Key, Handle)> = self
            .registry
            .iter()
            .filter(|(k, _)| dependents.contains(k))
            .map(|(k, handle)| (k, handle.clone()))
            .collect();
        realized.reverse();
        self.edges
            .dependents_first(realized)
            .into_iter()
            .map(|(_, handle)| handle)
            .collect()
    }

    /// Names for a cycle this thread closes by reading `key` while it is starting it.
    pub(crate) fn own_cycle(&self, keys: Vec<Key>, key: Key) -> Vec<String> {
        keys.into_iter()
            .chain([key])
            .map(|k| self.name(k))
            .collect()
    }
}
