//! [`Restarted`]: what a restart or a reload stopped and started. Part of the kernel, on its
//! own so that the registry's `Tracked` and the outcomes can both name it.
//!
//! Imports nothing from the crate.

/// What a restart did, from [`State::restart`](crate::State::restart) and
/// [`AsyncState::restart`](crate::AsyncState::restart) (and their `restart_alone`): the
/// names of the states it stopped, in the order it stopped them (dependents first), and of
/// those it started again, in the order it started them (the state, then the dependents that
/// were running, dependencies first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Restarted {
    /// The states stopped, in order.
    pub stopped: Vec<String>,
    /// The states started again, in order.
    pub started: Vec<String>,
}

impl Restarted {
    /// A restart of `name` alone: stopped, then started.
    pub(crate) fn of_one(name: &str) -> Self {
        Self {
            stopped: vec![name.to_owned()],
            started: vec![name.to_owned()],
        }
    }
}
