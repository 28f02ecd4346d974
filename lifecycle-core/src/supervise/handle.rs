//! [`FailHandle`]: how a supervised state's value (or a task its start spawned) reports
//! that it is dead, tied to the realization it was made in.
//!
//! Imports `thread`; must not import `state`, `async_state`, `health`, `shutdown` or `private`.

use super::driver;
use crate::thread::Key;
use std::fmt;

/// Reports a supervised state's failure from anywhere (`Clone + Send + Sync + 'static`):
/// get it in the start (or while the state is realized) with
/// [`State::fail_handle`](crate::State::fail_handle) or
/// [`AsyncState::fail_handle`](crate::AsyncState::fail_handle), and hand it to the task
/// the start spawns, which calls [`fail`](Self::fail) when it ends unexpectedly.
///
/// A handle belongs to one realization: once the state is stopped or restarted, its old
/// handles are ignored, so a task of an old value cannot fail the new one. A failure of a
/// state that is not realized (or is stopping) is ignored too, as is one of a state that is
/// not supervised; concurrent failures coalesce into one restart.
#[derive(Clone)]
pub struct FailHandle {
    key: Key,
    generation: u64,
}

impl FailHandle {
    pub(crate) fn new(key: Key) -> Self {
        Self {
            key,
            generation: driver::generation(key),
        }
    }

    /// Reports that the value is dead: the supervisor restarts the state (and its
    /// dependents) after its backoff. Returns whether the failure was taken (the state is
    /// supervised, realized, of this handle's realization, and not already restarting).
    pub fn fail(&self, error: impl fmt::Display) -> bool {
        driver::fail(self.key, Some(self.generation), error.to_string())
    }
}

impl fmt::Debug for FailHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailHandle")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}
