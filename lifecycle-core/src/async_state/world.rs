//! The async part of the world lock: which async states are starting or stopping, which tasks
//! wait for them, and which starts wait for which states (the wait-for graph of cycle checks).
//!
//! Async starts are not owned by a thread (a task moves between threads between polls), so
//! this bookkeeping is keyed by state: "the start of `a` is waiting for `b`". A task waiting
//! for a phase change parks its [`Waker`] here instead of blocking a thread; whoever ends a
//! phase takes the wakers under the lock and wakes them after releasing it.

use crate::info::StateInfo;
use crate::thread::Key;
use std::collections::{HashMap, HashSet};
use std::task::Waker;

/// What is happening to an async state right now (no entry: nothing).
#[derive(Clone, Debug)]
pub(crate) enum AsyncPhase {
    /// A task is running its start.
    Starting,
    /// A task is running its stop.
    Stopping,
    /// The stop function failed; the value is gone and `force_close` must clear it.
    Failed(String),
}

/// Lives inside the world lock (`coord::World::asyncs`).
#[derive(Default)]
pub(crate) struct AsyncWorld {
    phases: HashMap<Key, (AsyncPhase, StateInfo)>,
    /// The start of the key waits for each state in the list (one entry per pending wait,
    /// so `join!` of two reads inside one start is two entries).
    waits: HashMap<Key, Vec<Key>>,
    /// Tasks to wake when the phase of the key changes, by waiter id.
    waiters: HashMap<Key, Vec<(u64, Waker)>>,
    next_waiter: u64,
}

impl AsyncWorld {
    pub(crate) fn phase(&self, key: Key) -> Option<&AsyncPhase> {
        self.phases.get(&key).map(|(phase, _)| phase)
    }

    pub(crate) fn info(&self, key: Key) -> Option<&StateInfo> {
        self.phases.get(&key).map(|(_, info)| info)
    }

    /// The info of an async state whose start is running.
    pub(crate) fn starting_info(&self, key: Key) -> Option<&StateInfo> {
        match self.phases.get(&key)? {
            (AsyncPhase::Starting, info) => Some(info),
            _ => None,
        }
    }

    pub(crate) fn set_phase(&mut self, key: Key, phase: AsyncPhase, info: &StateInfo) {
        self.phases.insert(key, (phase, info.clone()));
    }

    /// Ends the phase of `key`; the caller wakes the returned wakers after unlocking.
    #[must_use = "wake the waiters after releasing the lock"]
    pub(crate) fn clear_phase(&mut self, key: Key) -> Vec<Waker> {
        self.phases.remove(&key);
        self.take_waiters(key)
    }

    /// Replaces the phase of `key` (for example `Stopping` to `Failed`), waking its waiters.
    #[must_use = "wake the waiters after releasing the lock"]
    pub(crate) fn change_phase(
        &mut self,
        key: Key,
        phase: AsyncPhase,
        info: &StateInfo,
    ) -> Vec<Waker> {
        self.set_phase(key, phase, info);
        self.take_waiters(key)
    }

    fn take_waiters(&mut self, key: Key) -> Vec<Waker> {
        self.waiters
            .remove(&key)
            .map(|waiters| waiters.into_iter().map(|(_, waker)| waker).collect())
            .unwrap_or_default()
    }

    /// Parks `waker` until the phase of `key` changes; `id` keeps one entry per waiting future.
    pub(crate) fn park(&mut self, key: Key, id: &mut Option<u64>, waker: &Waker) {
        let waiters = self.waiters.entry(key).or_default();
        if let Some(id) = *id {
            if let Some((_, parked)) = waiters.iter_mut().find(|(k, _)| *k == id) {
                parked.clone_from(waker);
                return;
            }
        }
        let fresh = self.next_waiter;
        self.next_waiter += 1;
        waiters.push((fresh, waker.clone()));
        *id = Some(fresh);
    }

    /// Forgets a parked waker (its future was dropped or is done waiting).
    pub(crate) fn unpark(&mut self, key: Key, id: u64) {
        if let Some(waiters) = self.waiters.get_mut(&key) {
            waiters.retain(|(k, _)| *k != id);
            if waiters.is_empty() {
                self.waiters.remove(&key);
            }
        }
    }

    /// Records that the start of `from` waits for `to`.
    pub(crate) fn add_wait(&mut self, from: Key, to: Key) {
        self.waits.entry(from).or_default().push(to);
    }

    /// Forgets one wait recorded with [`Self::add_wait`].
    pub(crate) fn remove_wait(&mut self, from: Key, to: Key) {
        if let Some(list) = self.waits.get_mut(&from) {
            if let Some(at) = list.iter().position(|k| *k == to) {
                list.swap_remove(at);
            }
            if list.is_empty() {
                self.waits.remove(&from);
            }
        }
    }

    /// If waiting for `key` would close a cycle, its keys: the states this poll is starting
    /// (from the one the chain comes back to, inwards), then the chain of waits from `key`
    /// back to it. `own_stack(k)` gives this poll's starts from `k` inwards, if it is starting
    /// `k`.
    pub(crate) fn wait_cycle(
        &self,
        key: Key,
        own_stack: &dyn Fn(Key) -> Option<Vec<Key>>,
    ) -> Option<Vec<Key>> {
        let mut chain = vec![key];
        let mut seen = HashSet::new();
        self.search(key, own_stack, &mut chain, &mut seen)
    }

    fn search(
        &self,
        at: Key,
        own_stack: &dyn Fn(Key) -> Option<Vec<Key>>,
        chain: &mut Vec<Key>,
        seen: &mut HashSet<Key>,
    ) -> Option<Vec<Key>> {
        if let Some(mut keys) = own_stack(at) {
            keys.extend(chain.iter().copied());
            return Some(keys);
        }
        if !seen.insert(at) || !matches!(self.phase(at), Some(AsyncPhase::Starting)) {
            return None;
        }
        for next in self.waits.get(&at).into_iter().flatten() {
            chain.push(*next);
            if let Some(found) = self.search(*next, own_stack, chain, seen) {
                return Some(found);
            }
            chain.pop();
        }
        None
    }
}
