//! The one phase table: who is starting or stopping which state, under which ticket, and which
//! states failed to stop; plus each state's stop epoch (how many values it has lost).
//!
//! Pure data (no locks, no user code, no allocation of user values), so the world keeps it
//! under its lock and the loom models drive exactly this code. Every change of a state's
//! phase is one of the transitions here; the outcome-to-phase rule of a stop
//! ([`Phases::conclude_stop`]) exists only here.
//!
//! Imports only `thread` (for [`Key`]); must not import `state` or `async_state`.

use crate::thread::Key;
use std::collections::HashMap;
use std::thread::ThreadId;

/// Names one start or one stop: unique for the life of the process, so a stop that gives up
/// can only ever mark failed the stop it owns.
pub(crate) type Ticket = u64;

/// Who runs a start or stop: a thread (sync states) or a task (async states, which move
/// between threads between polls).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum By {
    Thread(ThreadId),
    Task,
}

/// The owner of a `Starting` or `Stopping` phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) ticket: Ticket,
    pub(crate) by: By,
}

/// What is happening to a state right now (no entry: nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Starting(Owner),
    Stopping(Owner),
    /// Its stop failed (`cause`): readers get an error until `force_close` clears it.
    /// `held`: the stop that was given up on (by `stop()`'s bound) still runs and holds the
    /// value, so nothing may clear the state until it returns.
    Failed {
        cause: String,
        held: Option<Ticket>,
    },
}

/// How a stop ended, as its owner reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// It gave up before taking the value (guards still out): the value stays.
    Cancelled,
    /// It took the value and ran the stop function; `failure` is the message of its error.
    /// `force`: clear the state even if it failed.
    Ran {
        failure: Option<String>,
        force: bool,
    },
}

/// What [`Phases::conclude_stop`] made of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concluded {
    /// The value is still there; the phase is cleared.
    Kept,
    /// The state is cleanly stopped: the caller removes it from the registry.
    Stopped,
    /// The state is failed and stays listed until `force_close`.
    Failed,
    /// The phase is not this stop's any more (cannot happen while tickets are honoured):
    /// nothing changed.
    NotOurs,
}

/// Hands a stop's ticket to the one who may give up on it (`stop()`'s bounded worker): it
/// can then mark failed that stop and no other, or cancel a stop that has not begun yet.
/// Read and written only under the world lock (its own lock only makes it `Sync`).
#[derive(Default)]
pub(crate) struct StopClaim(std::sync::Mutex<Claim>);

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    #[default]
    Pending,
    Begun(Ticket),
    Cancelled,
}

impl StopClaim {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Claim> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
pub(crate) struct Phases {
    phases: HashMap<Key, Phase>,
    /// Stops that a bounded caller gave up waiting for (it queued behind them), by the
    /// ticket of that stop: still owned by their owner, but readers are told, not kept
    /// waiting.
    overdue: HashMap<Key, (Ticket, String)>,
    epochs: HashMap<Key, u64>,
    last_ticket: Ticket,
}

impl Phases {
    pub(crate) fn get(&self, key: Key) -> Option<&Phase> {
        self.phases.get(&key)
    }

    /// How many values `key` has lost to stops so far.
    pub(crate) fn epoch(&self, key: Key) -> u64 {
        self.epochs.get(&key).copied().unwrap_or(0)
    }

    fn ticket(&mut self, by: By) -> Owner {
        self.last_ticket += 1;
        Owner {
            ticket: self.last_ticket,
            by,
        }
    }

    /// Gives `by` the start right of an idle state.
    pub(crate) fn begin_start(&mut self, key: Key, by: By) -> Ticket {
        debug_assert!(self.get(key).is_none(), "a start begins on an idle state");
        let owner = self.ticket(by);
        self.phases.insert(key, Phase::Starting(owner));
        owner.ticket
    }

    /// Ends the start `ticket` (it published a value or failed); false if it was not the owner.
    pub(crate) fn conclude_start(&mut self, key: Key, ticket: Ticket) -> bool {
        match self.phases.get(&key) {
            Some(Phase::Starting(owner)) if owner.ticket == ticket => {
                self.phases.remove(&key);
                true
            }
            _ => false,
        }
    }

    /// Gives `by` the stop right of an idle, realized state.
    pub(crate) fn begin_stop(&mut self, key: Key, by: By) -> Ticket {
        debug_assert!(self.get(key).is_none(), "a stop begins on an idle state");
        let owner = self.ticket(by);
        self.phases.insert(key, Phase::Stopping(owner));
        owner.ticket
    }

    /// Marks the stop `ticket` failed because its caller gave up on it; it keeps running and
    /// concludes later. Any other phase (another stop, a start) is left alone.
    pub(crate) fn abandon(&mut self, key: Key, ticket: Ticket, cause: String) -> bool {
        match self.phases.get(&key) {
            Some(Phase::Stopping(owner)) if owner.ticket == ticket => {
                let held = Some(ticket);
                self.phases.insert(key, Phase::Failed { cause, held });
                true
            }
            _ => false,
        }
    }

    /// Marks the stop in progress on `key` (someone else's) overdue with `cause`: readers get
    /// an error instead of waiting for it, and it stays its owner's to conclude.
    pub(crate) fn mark_overdue(&mut self, key: Key, cause: String) -> bool {
        match self.phases.get(&key) {
            Some(Phase::Stopping(owner)) => {
                self.overdue.insert(key, (owner.ticket, cause));
                true
            }
            _ => false,
        }
    }

    /// Why the stop in progress on `key` is overdue, if it is.
    pub(crate) fn overdue(&self, key: Key) -> Option<&str> {
        match (self.phases.get(&key), self.overdue.get(&key)) {
            (Some(Phase::Stopping(owner)), Some((ticket, cause))) if owner.ticket == *ticket => {
                Some(cause)
            }
            _ => None,
        }
    }

    /// Clears a failed state (`force_close`); false if there is none, or if a stop that was
    /// given up on still has the value in the slot (`slot_empty`: it has moved it out, into
    /// its stop function, so the slot may take a new value and its late end is not ours).
    pub(crate) fn clear_failed(&mut self, key: Key, slot_empty: bool) -> bool {
        match self.phases.get(&key) {
            Some(Phase::Failed { held: None, .. }) => {
                self.phases.remove(&key);
                true
            }
            Some(Phase::Failed { held: Some(_), .. }) if slot_empty => {
                self.phases.remove(&key);
                *self.epochs.entry(key).or_default() += 1;
                true
            }
            _ => false,
        }
    }

    /// Ends the stop `ticket`: the one rule from a stop's outcome to the state's next phase.
    pub(crate) fn conclude_stop(&mut self, key: Key, ticket: Ticket, ended: Ended) -> Concluded {
        let abandoned = match self.phases.get(&key) {
            Some(Phase::Stopping(owner)) if owner.ticket == ticket => false,
            Some(Phase::Failed {
                held: Some(held), ..
            }) if *held == ticket => true,
            _ => return Concluded::NotOurs,
        };
        self.overdue.remove(&key);
        match ended {
            Ended::Cancelled => {
                self.phases.remove(&key);
                Concluded::Kept
            }
            Ended::Ran { failure, force } => {
                *self.epochs.entry(key).or_default() += 1;
                match failure {
                    // A stop given up on that fails later stays failed even if it was forced:
                    // its caller was told it failed.
                    Some(cause) if !force || abandoned => {
                        self.phases.insert(key, Phase::Failed { cause, held: None });
                        Concluded::Failed
                    }
                    _ => {
                        self.phases.remove(&key);
                        Concluded::Stopped
                    }
                }
            }
        }
    }

    /// Ends the stop `ticket` that swapped a new value in for the old one (a reload): the
    /// phase is cleared and the state has lost a value, as after a stop, but stays realized.
    /// False if the phase was not this stop's (nothing changed).
    pub(crate) fn conclude_swap(&mut self, key: Key, ticket: Ticket) -> bool {
        match self.phases.get(&key) {
            Some(Phase::Stopping(owner)) if owner.ticket == ticket => {
                self.phases.remove(&key);
                self.overdue.remove(&key);
                *self.epochs.entry(key).or_default() += 1;
                true
            }
            _ => false,
        }
    }

    /// Forgets a start given up before it ended (its future was dropped).
    pub(crate) fn abandon_start(&mut self, key: Key, ticket: Ticket) -> bool {
        self.conclude_start(key, ticket)
    }

    /// Forgets `key` (a local state's core was dropped).
    pub(crate) fn forget(&mut self, key: Key) {
        self.phases.remove(&key);
        self.overdue.remove(&key);
        self.epochs.remove(&key);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_given_up_stop_marks_failed_only_the_stop_it_owns() {
        let mut phases = Phases::default();
        let mine = phases.begin_stop(1, By::Task);
        assert!(!phases.abandon(1, mine + 1, "late".into()), "not its stop");
        assert_eq!(
            phases.get(1),
            Some(&Phase::Stopping(Owner {
                ticket: mine,
                by: By::Task
            }))
        );
        assert!(phases.abandon(1, mine, "late".into()));
        assert!(
            !phases.clear_failed(1, false),
            "the given-up stop still holds the value"
        );
        let ended = Ended::Ran {
            failure: None,
            force: false,
        };
        assert_eq!(phases.conclude_stop(1, mine, ended), Concluded::Stopped);
        assert_eq!(phases.get(1), None);
        assert_eq!(phases.epoch(1), 1);
    }

    #[test]
    fn a_swap_clears_only_its_own_stop_and_counts_a_lost_value() {
        let mut phases = Phases::default();
        let stop = phases.begin_stop(1, By::Task);
        assert!(!phases.conclude_swap(1, stop + 1), "not its stop");
        assert!(phases.conclude_swap(1, stop));
        assert_eq!(phases.get(1), None);
        assert_eq!(phases.epoch(1), 1);
        assert!(!phases.conclude_swap(1, stop), "concluded once");
        let start = phases.begin_start(1, By::Task);
        assert!(!phases.conclude_swap(1, start), "a start is not a swap");
        assert!(phases.conclude_start(1, start));
    }

    #[test]
    fn outcomes_map_to_phases() {
        let mut phases = Phases::default();
        let failed = Ended::Ran {
            failure: Some("boom".into()),
            force: false,
        };
        let t = phases.begin_stop(1, By::Task);
        assert_eq!(
            phases.conclude_stop(1, t, failed.clone()),
            Concluded::Failed
        );
        assert_eq!(phases.conclude_stop(1, t, failed), Concluded::NotOurs);
        assert!(phases.clear_failed(1, true));
        let t = phases.begin_stop(1, By::Task);
        let forced = Ended::Ran {
            failure: Some("boom".into()),
            force: true,
        };
        assert_eq!(phases.conclude_stop(1, t, forced), Concluded::Stopped);
        let t = phases.begin_stop(1, By::Task);
        assert_eq!(
            phases.conclude_stop(1, t, Ended::Cancelled),
            Concluded::Kept
        );
        assert_eq!(phases.epoch(1), 2);
    }
}
