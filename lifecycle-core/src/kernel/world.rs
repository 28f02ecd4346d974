//! The world: one lock over the phase table, the wait-for graph, the parked tasks, the
//! registry of realized states and the dependency edges, and the transitions on them.
//!
//! There is one [`World`] for the process ([`World::process`]); the type is an instance, so
//! isolated worlds (one per test scope) can be further instances later. Only slow paths take
//! its lock, and no user code runs under it: no start or stop function, no `Display` of a
//! user's error, no drop of a user's value or of a registry handle (the transitions that end a
//! phase release the lock themselves before they drop what they took out). Sync drivers wait
//! on the world's condition variable, async drivers park their waker; every phase change
//! wakes both through one [`Wake`].
//!
//! Imports only the kernel's own modules and the base modules `error`, `info`, `status` and
//! `thread`; must not import `state` or `async_state`, which drive it.

use super::cell::{Slot, ValueCell};
use super::graph::Edges;
use super::phases::{By, Claim, Concluded, Ended, Phase, Phases, StopClaim, Ticket};
use super::registry::{Handle, Registry};
use super::timings::Timings;
use crate::error::Error;
use crate::info::StateInfo;
use crate::status::Status;
use crate::thread::{self, Activity, Key};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// One instance of the library's bookkeeping (see the module docs).
pub(crate) struct World {
    table: Mutex<Table>,
    changed: Condvar,
}

/// What the world's lock protects.
#[derive(Default)]
pub(crate) struct Table {
    phases: Phases,
    /// The info of every state that has a phase (for names in errors and for edges).
    infos: HashMap<Key, StateInfo>,
    /// The start or stop of the key waits for each state in the list (one entry per pending
    /// wait, so two reads in one async start are two entries).
    waits: HashMap<Key, Vec<Key>>,
    /// The start or stop that runs the start of the key inline (it waits for it).
    parents: HashMap<Key, Key>,
    /// Tasks to wake when the phase of the key changes, by waiter id.
    waiters: HashMap<Key, Vec<(u64, Waker)>>,
    next_waiter: u64,
    pub(crate) registry: Registry,
    /// States whose reload's new start runs: what that start read so far (with the epochs
    /// it read), to become their dependencies if the new value goes in.
    reloading: HashMap<Key, Reading>,
    pub(crate) edges: Edges,
    pub(crate) timings: Timings,
    /// The states whose supervisor gave up, with the last failure's message: a start is
    /// refused ([`Error::GaveUp`]) until a restart or force close clears it.
    gave_up: HashMap<Key, String>,
}

/// What a reload's new start read: the reloaded state's info, and each state it read.
struct Reading {
    info: StateInfo,
    read: Vec<(Key, StateInfo, u64)>,
}

/// The locked world.
pub(crate) type Locked = MutexGuard<'static, Table>;

static PROCESS: LazyLock<World> = LazyLock::new(|| World {
    table: Mutex::default(),
    changed: Condvar::new(),
});

impl World {
    /// The world of this process.
    pub(crate) fn process() -> &'static World {
        &PROCESS
    }

    /// Locks the world. No user code runs under this lock, so it is never poisoned in
    /// practice, and if it were, the data is still consistent at every unlock.
    pub(crate) fn lock(&'static self) -> Locked {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Locks the process world.
pub(crate) fn world() -> Locked {
    World::process().lock()
}

/// Wakes everyone who waits for a phase change: sync waiters and the parked tasks of one
/// state. Taken under the lock, run after it is released.
#[must_use = "run it after releasing the world lock"]
pub(crate) struct Wake(Vec<Waker>);

impl Wake {
    pub(crate) fn run(self) {
        World::process().changed.notify_all();
        self.0.into_iter().for_each(Waker::wake);
    }
}

/// What a driver wants to do with a state.
#[derive(Clone, Copy)]
pub(crate) enum Want {
    Start,
    Stop { force: bool },
}

/// What it got.
pub(crate) enum Granted {
    /// The state is realized: read it.
    Realized,
    /// The caller holds the start right under this ticket.
    Start(Ticket),
    /// Not realized: nothing to stop.
    Nothing,
    /// The caller holds the stop right under this ticket.
    Stop(Ticket),
    /// A force close cleared a failed state; finish it after unlocking.
    Cleared(Released),
}

/// An answer of [`Table::next_stale`].
pub(crate) enum Stale {
    Stop(Handle),
    Wait,
    Done,
}

/// An answer of [`Table::acquire`].
pub(crate) enum Turn {
    Done(Result<Granted, Error>),
    /// Wait for a phase change of the state, then ask again.
    Wait,
}

/// What a transition took out of the world, to drop and wake after the lock is released.
#[must_use = "finish it after releasing the world lock"]
pub(crate) struct Released {
    handle: Option<Handle>,
    wake: Wake,
}

impl Released {
    pub(crate) fn finish(self) {
        drop(self.handle);
        self.wake.run();
    }
}

impl Table {
    pub(crate) fn phase(&self, key: Key) -> Option<&Phase> {
        self.phases.get(key)
    }

    fn take_waiters(&mut self, key: Key) -> Wake {
        let wakers = self.waiters.remove(&key).unwrap_or_default();
        Wake(wakers.into_iter().map(|(_, waker)| waker).collect())
    }

    /// The name of `key`, for errors.
    pub(crate) fn name(&self, key: Key) -> String {
        self.infos
            .get(&key)
            .or_else(|| self.edges.info(key))
            .map_or_else(|| format!("#{key:x}"), |info| info.name().to_owned())
    }

    /// The one decision of who may start or stop a state, for sync and async drivers.
    ///
    /// `slot`: what the state's cell holds; `claim`: the stop is owned by a bounded caller
    /// that may give up on it.
    pub(crate) fn acquire(
        &mut self,
        key: Key,
        info: &StateInfo,
        slot: Slot,
        want: Want,
        by: By,
        claim: Option<&StopClaim>,
    ) -> Turn {
        let name = || info.name().to_owned();
        let realized = slot == Slot::Realized;
        if matches!(want, Want::Start) && realized {
            return Turn::Done(Ok(Granted::Realized));
        }
        if let Some(last_error) = self.gave_up.get(&key) {
            match want {
                Want::Stop { force: true } => {
                    self.gave_up.remove(&key);
                }
                Want::Start => {
                    return Turn::Done(Err(Error::GaveUp {
                        state: name(),
                        last_error: last_error.clone(),
                    }))
                }
                Want::Stop { force: false } => {}
            }
        }
        match (want, self.phases.get(key)) {
            (Want::Start, None) => {
                let ticket = self.phases.begin_start(key, by);
                self.timings.begin(key);
                self.infos.insert(key, info.clone());
                self.edges.clear_dependencies(key);
                // Started inline by another start or stop: that one waits for this one, which
                // the cycle checks of other threads and tasks must see.
                if let Some(parent) = thread::innermost_active() {
                    self.add_wait(parent, key);
                    self.parents.insert(key, parent);
                }
                Turn::Done(Ok(Granted::Start(ticket)))
            }
            (Want::Stop { .. }, None) => {
                if !realized {
                    return Turn::Done(Ok(Granted::Nothing));
                }
                if let Some(claim) = claim {
                    let mut claim = claim.lock();
                    if matches!(*claim, Claim::Cancelled) {
                        return Turn::Done(Ok(Granted::Nothing));
                    }
                    let ticket = self.phases.begin_stop(key, by);
                    *claim = Claim::Begun(ticket);
                    self.infos.insert(key, info.clone());
                    return Turn::Done(Ok(Granted::Stop(ticket)));
                }
                let ticket = self.phases.begin_stop(key, by);
                self.infos.insert(key, info.clone());
                Turn::Done(Ok(Granted::Stop(ticket)))
            }
            (_, Some(Phase::Stopping(_))) if self.phases.overdue(key).is_some() => {
                let cause = self.phases.overdue(key).unwrap_or_default().to_owned();
                Turn::Done(Err(match want {
                    Want::Stop { force: true } => Error::StillStopping { state: name() },
                    _ => Error::StopFailedEarlier {
                        state: name(),
                        cause,
                    },
                }))
            }
            (_, Some(Phase::Starting(_) | Phase::Stopping(_))) => {
                match (want, thread::activity(key)) {
                    (Want::Start, Some(Activity::Start)) => {
                        let keys = thread::active_from(key).unwrap_or_else(|| vec![key]);
                        let cycle = keys.into_iter().chain([key]).map(|k| self.name(k));
                        Turn::Done(Err(Error::Cycle {
                            cycle: cycle.collect(),
                        }))
                    }
                    (_, Some(activity)) => Turn::Done(Err(Error::Reentrant {
                        state: name(),
                        action: match activity {
                            Activity::Start => "starting",
                            Activity::Stop => "stopping",
                        },
                    })),
                    (_, None) => match self.wait_cycle(key) {
                        Some(keys) => Turn::Done(Err(Error::Cycle {
                            cycle: keys.into_iter().map(|k| self.name(k)).collect(),
                        })),
                        None => Turn::Wait,
                    },
                }
            }
            (Want::Stop { force: true }, Some(Phase::Failed { .. })) => {
                if !self.phases.clear_failed(key, slot == Slot::Empty) {
                    return Turn::Done(Err(Error::StillStopping { state: name() }));
                }
                self.infos.remove(&key);
                let handle = self.registry.remove(key);
                let wake = self.take_waiters(key);
                Turn::Done(Ok(Granted::Cleared(Released { handle, wake })))
            }
            (_, Some(Phase::Failed { cause, .. })) => Turn::Done(Err(Error::StopFailedEarlier {
                state: name(),
                cause: cause.clone(),
            })),
        }
    }

    /// Records that the start or stop of `from` waits for `to`.
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

    /// The one cycle search: if this thread (or this poll) waiting for `key` would never end,
    /// the keys of the cycle — this thread's starts and stops from the one the chain comes
    /// back to inwards, then the chain of waits from `key` back to it.
    fn wait_cycle(&self, key: Key) -> Option<Vec<Key>> {
        let mut chain = vec![key];
        let mut seen = HashSet::new();
        self.search(key, &mut chain, &mut seen)
    }

    fn search(&self, at: Key, chain: &mut Vec<Key>, seen: &mut HashSet<Key>) -> Option<Vec<Key>> {
        if let Some(mut keys) = thread::active_from(at) {
            keys.extend(chain.iter().copied());
            return Some(keys);
        }
        // A stop holds its phase while its stop function runs, which may read states: a chain
        // through a stopper is as much a wait as one through a starter.
        let busy = matches!(
            self.phases.get(at),
            Some(Phase::Starting(_) | Phase::Stopping(_))
        );
        if !seen.insert(at) || !busy {
            return None;
        }
        for next in self.waits.get(&at).into_iter().flatten() {
            chain.push(*next);
            if let Some(found) = self.search(*next, chain, seen) {
                return Some(found);
            }
            chain.pop();
        }
        None
    }

    /// The info of a state that is starting right now (sync or async).
    fn starting_info(&self, key: Key) -> Option<&StateInfo> {
        match self.phases.get(key)? {
            Phase::Starting(_) => self.infos.get(&key),
            _ => None,
        }
    }

    /// What `status()` says of `key`, given its cell's realized flag.
    pub(crate) fn status(&self, key: Key, realized: bool) -> Status {
        if !realized && self.phases.get(key).is_none() && self.gave_up.contains_key(&key) {
            return Status::GaveUp;
        }
        match self.phases.get(key) {
            Some(Phase::Starting(_)) => Status::Starting,
            Some(Phase::Stopping(_)) if self.phases.overdue(key).is_some() => Status::StopFailed,
            Some(Phase::Stopping(_)) => Status::Stopping,
            Some(Phase::Failed { .. }) => Status::StopFailed,
            None if realized => Status::Realized,
            None => Status::Unrealized,
        }
    }

    /// The realized states whose start read `key`, directly or through others, in the order
    /// to stop them: dependents first, otherwise newest first.
    pub(crate) fn dependents_to_stop(&self, key: Key) -> Vec<(Key, Handle)> {
        self.realized_among(&self.edges.dependents(key))
    }

    /// The realized states among `keys`, in the order to stop them: dependents first,
    /// otherwise newest first.
    fn realized_among(&self, keys: &BTreeSet<Key>) -> Vec<(Key, Handle)> {
        let mut realized: Vec<(Key, Handle)> = self
            .registry
            .iter()
            .filter(|(k, _)| keys.contains(k))
            .map(|(k, handle)| (k, handle.clone()))
            .collect();
        realized.reverse();
        self.edges.dependents_first(realized)
    }

    /// What a restart of `key` does next so that no realized dependent holds data of a
    /// stopped value: stop a dependent whose start read a value stopped since (dependents
    /// first), or wait for such a start still running, or nothing.
    pub(crate) fn next_stale(&self, key: Key) -> Stale {
        let stale = self.edges.stale_among(key, |k| self.phases.epoch(k));
        if let Some((_, handle)) = self.realized_among(&stale).into_iter().next() {
            return Stale::Stop(handle);
        }
        // A start running on this thread (the restart is called from inside it) cannot end
        // while we wait for it.
        let starting = stale.iter().any(|k| {
            matches!(self.phases.get(*k), Some(Phase::Starting(_)))
                && thread::activity(*k).is_none()
        });
        if starting {
            Stale::Wait
        } else {
            Stale::Done
        }
    }

    /// Marks `key` given up on by its supervisor (`last_error`: the last failure).
    pub(crate) fn give_up(&mut self, key: Key, last_error: String) {
        self.gave_up.insert(key, last_error);
    }

    /// Clears the mark of [`Self::give_up`]; returns whether there was one.
    pub(crate) fn clear_gave_up(&mut self, key: Key) -> bool {
        self.gave_up.remove(&key).is_some()
    }

    /// True if a supervisor gave up on any state.
    pub(crate) fn any_gave_up(&self) -> bool {
        !self.gave_up.is_empty()
    }

    /// Forgets a local state whose core is dropped.
    pub(crate) fn forget(&mut self, key: Key) {
        self.gave_up.remove(&key);
        self.edges.forget(key);
        self.phases.forget(key);
        self.timings.forget(key);
        self.infos.remove(&key);
    }
}

/// A state's status as `State::status` and `AsyncState::status` report it: a value private
/// to this thread's scope (`private`) is realized; otherwise the phase table decides.
pub(crate) fn status_of<T>(key: Key, cell: &ValueCell<T>, private: bool) -> Status {
    if private {
        return Status::Realized;
    }
    world().status(key, cell.is_realized())
}

/// Waits for a phase change of `key` on this thread (sync drivers), recording the wait so
/// other threads' cycle searches see it.
pub(crate) fn wait(mut table: Locked, key: Key) -> Locked {
    let from = thread::innermost_active();
    if let Some(from) = from {
        table.add_wait(from, key);
    }
    let mut table = World::process()
        .changed
        .wait(table)
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(from) = from {
        table.remove_wait(from, key);
    }
    table
}

/// Ends the start `ticket` of `key`: on success publishes the value into `cell` and tracks
/// the state with `handle()`. Releases the lock, then drops a replaced handle and wakes the
/// waiters. The caller made `outcome` outside the lock (a panic payload is user data).
///
/// # Safety
/// `ticket` is the caller's start right of `key`, whose value slot is `cell`: it has held
/// it since it saw the slot unrealized under the lock, so no one else touches the slot.
pub(crate) unsafe fn conclude_start<T>(
    key: Key,
    ticket: Ticket,
    cell: &ValueCell<T>,
    outcome: Result<T, Error>,
    handle: impl FnOnce() -> Handle,
) -> Result<(), Error> {
    // Formatted before locking: the message may include a user error's `Display`.
    let failure = outcome.as_ref().err().map(ToString::to_string);
    let mut table = world();
    table.timings.end(key, failure);
    let ours = table.phases.conclude_start(key, ticket);
    debug_assert!(ours, "only the owner of a start ends it");
    end_start_bookkeeping(&mut table, key);
    let (result, replaced) = match outcome {
        Ok(value) => {
            // SAFETY: exclusive start right, per this function's contract.
            unsafe { cell.publish(value) };
            (Ok(()), table.registry.push(key, handle()))
        }
        Err(error) => (Err(error), None),
    };
    let wake = table.take_waiters(key);
    drop(table);
    Released {
        handle: replaced,
        wake,
    }
    .finish();
    result
}

fn end_start_bookkeeping(table: &mut Table, key: Key) {
    table.infos.remove(&key);
    if let Some(parent) = table.parents.remove(&key) {
        table.remove_wait(parent, key);
    }
}

/// Forgets the start `ticket` of `key`, which ended without an outcome (a dropped future).
pub(crate) fn abandon_start(key: Key, ticket: Ticket) {
    let mut table = world();
    if table.phases.abandon_start(key, ticket) {
        end_start_bookkeeping(&mut table, key);
    }
    let wake = table.take_waiters(key);
    drop(table);
    wake.run();
}

/// Ends the stop `ticket` of `key` (see [`Phases::conclude_stop`]): a stopped state leaves
/// the registry. Releases the lock, then drops the handle and wakes the waiters.
pub(crate) fn conclude_stop(key: Key, ticket: Ticket, ended: Ended) -> Concluded {
    let mut table = world();
    if let Ended::Ran {
        failure: Some(message),
        ..
    } = &ended
    {
        table.timings.stop_failed(key, message);
    }
    let concluded = table.phases.conclude_stop(key, ticket, ended);
    let handle = match concluded {
        Concluded::Stopped => table.registry.remove(key),
        _ => None,
    };
    if !matches!(concluded, Concluded::Failed | Concluded::NotOurs) {
        table.infos.remove(&key);
    }
    let wake = table.take_waiters(key);
    drop(table);
    Released { handle, wake }.finish();
    concluded
}

/// Ends the stop `ticket` of `key` that swapped a value (a reload): `swapped` says whether
/// the new value went in ([`Phases::conclude_swap`]) or the stop gave up before taking the
/// old one (the caller reopened the cell). Releases the lock, then wakes the waiters.
pub(crate) fn conclude_swap(key: Key, ticket: Ticket, swapped: bool) {
    let mut table = world();
    let ours = if swapped {
        // The new value is in: what its start read is now what the state depends on.
        if let Some(Reading { info, read }) = table.reloading.remove(&key) {
            table.edges.clear_dependencies(key);
            for (to, to_info, epoch) in read {
                table.edges.record((key, &info), (to, &to_info), epoch);
            }
        }
        table.phases.conclude_swap(key, ticket)
    } else {
        table.phases.conclude_stop(key, ticket, Ended::Cancelled) == Concluded::Kept
    };
    debug_assert!(ours, "only the owner of a stop ends it");
    table.infos.remove(&key);
    let wake = table.take_waiters(key);
    drop(table);
    wake.run();
}

/// Gives up on the stop `claim` names (its caller's bound passed): if it began, it is marked
/// failed with `cause` (readers get an error instead of waiting for it); if not, it never
/// will, and the stop it queued behind (another thread's) is marked overdue: readers are
/// told, but that stop stays its owner's, and `force_close` cannot clear it under it.
pub(crate) fn abandon_stop(key: Key, claim: &StopClaim, cause: String) {
    let mut table = world();
    let mut state = claim.lock();
    match *state {
        Claim::Begun(ticket) => {
            table.phases.abandon(key, ticket, cause);
        }
        Claim::Pending => {
            *state = Claim::Cancelled;
            table.phases.mark_overdue(key, cause);
        }
        Claim::Cancelled => {}
    }
    drop(state);
    let wake = table.take_waiters(key);
    drop(table);
    wake.run();
}

/// A reload of `key` begins its new start: what that start reads is kept aside until the
/// swap ([`conclude_swap`]) or [`end_reload`].
pub(crate) fn begin_reload(key: Key, info: &StateInfo) {
    let reading = Reading {
        info: info.clone(),
        read: Vec::new(),
    };
    world().reloading.insert(key, reading);
}

/// A reload of `key` ended: forgets what its new start read if the swap did not take it.
pub(crate) fn end_reload(key: Key) {
    let reading = world().reloading.remove(&key);
    drop(reading);
}

/// Records that the start running on this thread (or in this poll) read the state `key`.
pub(crate) fn record_dependency(key: Key, info: &StateInfo) {
    let Some(dependent) = thread::innermost_starting() else {
        return;
    };
    if dependent == key {
        return;
    }
    let mut table = world();
    if !matches!(table.phases.get(dependent), Some(Phase::Starting(_))) {
        let epoch = table.phases.epoch(key);
        if let Some(reading) = table.reloading.get_mut(&dependent) {
            if !reading.read.iter().any(|(k, _, _)| *k == key) {
                reading.read.push((key, info.clone(), epoch));
            }
        }
        return;
    }
    let Some(dependent_info) = table.starting_info(dependent).cloned() else {
        return;
    };
    let epoch = table.phases.epoch(key);
    table
        .edges
        .record((dependent, &dependent_info), (key, info), epoch);
}
