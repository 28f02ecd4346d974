//! The one error type of the library: every variant names the state or resource involved.
//!
//! Imports nothing from the crate (a base module: every module may use it).

use std::fmt;
use std::time::Duration;

/// Any error a start, stop or close function may return (`?` converts into it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, and with which state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A state's start function returned an error.
    #[error("state `{state}` failed to start: {source}")]
    Start {
        /// The state's name.
        state: String,
        /// What the start function returned.
        #[source]
        source: BoxError,
    },
    /// A state's start function panicked.
    #[error("state `{state}` panicked while starting: {message}")]
    StartPanicked {
        /// The state's name.
        state: String,
        /// The panic message.
        message: String,
    },
    /// A state's start needs itself, directly or through other states.
    #[error("start cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The states of the cycle in the order they wait on each other; the first is repeated
        /// at the end.
        cycle: Vec<String>,
    },
    /// A state's stop function returned an error.
    #[error("state `{state}` failed to stop: {source}")]
    Stop {
        /// The state's name.
        state: String,
        /// What the stop function returned.
        #[source]
        source: BoxError,
    },
    /// A state's stop function panicked.
    #[error("state `{state}` panicked while stopping: {message}")]
    StopPanicked {
        /// The state's name.
        state: String,
        /// The panic message.
        message: String,
    },
    /// A stop waited for guards or owned handles that were not released in time.
    #[error(
        "state `{state}` is still in use after {waited:?}: a `Ref` or `Owned` handle to it was \
         not released; the state stays started"
    )]
    StillInUse {
        /// The state's name.
        state: String,
        /// How long the stop waited.
        waited: Duration,
    },
    /// `stop()` gave up on a state whose stop did not return in time; the state is marked
    /// failed (see [`Error::StopFailedEarlier`]) and the other states were stopped.
    #[error(
        "state `{state}` did not stop within {waited:?}; the other states were stopped without it"
    )]
    StopTimedOut {
        /// The state's name.
        state: String,
        /// How long `stop()` waited for it.
        waited: Duration,
    },
    /// A stop would wait for a guard held by the thread that asked for the stop.
    #[error(
        "state `{state}` cannot stop: this thread holds a `Ref` to it; drop the guard before \
         stopping (waiting would never end)"
    )]
    HeldByCurrentThread {
        /// The state's name.
        state: String,
    },
    /// The state is used from its own stop function, or stopped from its own start function.
    #[error("state `{state}` is {action} on this thread and cannot be used from inside it")]
    Reentrant {
        /// The state's name.
        state: String,
        /// `"starting"` or `"stopping"`.
        action: &'static str,
    },
    /// An earlier stop of the state failed; it must be cleared first (the failed-stop rule:
    /// [`Status::StopFailed`](crate::Status::StopFailed)).
    #[error(
        "state `{state}` failed to stop earlier ({cause}); call `force_close()` to clear it \
         before using it again"
    )]
    StopFailedEarlier {
        /// The state's name.
        state: String,
        /// The earlier stop error.
        cause: String,
    },
    /// The state's supervisor gave up on it (see [`Status::GaveUp`](crate::Status::GaveUp)):
    /// `restart` or `force_close` it before using it again.
    #[error(
        "state `{state}` failed too often and its supervisor gave up (last error: {last_error}); \
         restart or force_close it before using it again"
    )]
    GaveUp {
        /// The state's name.
        state: String,
        /// The message of its last failure.
        last_error: String,
    },
    /// `force_close` found the state failed by a stop that was given up on (it did not return
    /// within `stop()`'s bound) and still holds the value: clearing it now could free the
    /// value under that stop or start a second value beside it. Try again once it returns
    /// (see [`Status::StopFailed`](crate::Status::StopFailed)).
    #[error(
        "state `{state}` is still held by a stop that was given up on; its value is not \
         released yet, so it cannot be cleared: try `force_close()` again once that stop returns"
    )]
    StillStopping {
        /// The state.
        state: String,
    },
    /// Stopping several states: at least one failed. Every state was tried.
    #[error(transparent)]
    StopAll(#[from] StopReport),
    /// A resource (a `with_resources!` binding, a part of a `mk_system!` system, a
    /// `defresource!` place) failed to open: its expression returned an error through `?`.
    #[error("resource `{resource}` failed to open: {source}")]
    Open {
        /// The resource's name: the binding, `System.part`, or the place's path.
        resource: String,
        /// What the expression returned.
        #[source]
        source: BoxError,
    },
    /// A resource's `close` returned an error.
    #[error("resource `{resource}` failed to close: {source}")]
    Close {
        /// The resource's name: the binding, `System.part`, or the place's path.
        resource: String,
        /// What `close` returned.
        #[source]
        source: BoxError,
    },
    /// A resource's `close` panicked; the panic was caught so the other resources still close.
    #[error("resource `{resource}` panicked while closing: {message}")]
    ClosePanicked {
        /// The resource's name (or its type, for an element of a collection).
        resource: String,
        /// The panic message.
        message: String,
    },
    /// Closing several resources: more than one failed. Every resource was tried.
    #[error("{} resources failed to close: {}", errors.len(), join(errors))]
    CloseAll {
        /// Every failure, in the order the resources were closed.
        errors: Vec<Error>,
    },
    /// Opening (or starting) failed, and closing what was already open failed too. The error
    /// that stopped the opening comes first; the close errors are attached after it.
    #[error(
        "{error}; closing what was already open also failed: {}",
        join(close_errors)
    )]
    Rollback {
        /// What made the opening fail.
        #[source]
        error: Box<Error>,
        /// Every close that failed during the rollback, in the order they were closed
        /// (reverse order of opening).
        close_errors: Vec<Error>,
    },
    /// A close waited for outstanding snapshots (`Arc`s) of a value that were not released in
    /// time; the value was put back.
    #[error(
        "resource `{resource}` is still in use after {waited:?}: a snapshot of it (an `Arc` \
         from `load`) was not released; it stays in place"
    )]
    CloseInUse {
        /// The resource's name.
        resource: String,
        /// How long the close waited.
        waited: Duration,
    },
    /// A reload's new value could not go in (its start failed, or the swap could not
    /// happen); the old value keeps serving, if there still is one (see `State::reload`).
    #[error("state `{state}` failed to reload; the old value keeps serving: {source}")]
    Reload {
        /// The state's name.
        state: String,
        /// Why: the new start's error, or why the swap could not happen.
        #[source]
        source: Box<Error>,
    },
    /// The state was stopped while a reload started its new value: the new value was stopped
    /// too, and the state stays stopped.
    #[error("state `{state}` was stopped while it reloaded; its new value was stopped too")]
    ReloadAbandoned {
        /// The state's name.
        state: String,
    },
    /// Any other error, from user code that used `?`.
    #[error(transparent)]
    Other(BoxError),
}

impl Error {
    /// Wraps any error.
    pub fn other(error: impl Into<BoxError>) -> Self {
        Error::Other(error.into())
    }

    /// The name of the state the error is about, if it is about one.
    pub fn state(&self) -> Option<&str> {
        match self {
            Error::Start { state, .. }
            | Error::StartPanicked { state, .. }
            | Error::Stop { state, .. }
            | Error::StopPanicked { state, .. }
            | Error::StillInUse { state, .. }
            | Error::StopTimedOut { state, .. }
            | Error::HeldByCurrentThread { state }
            | Error::Reentrant { state, .. }
            | Error::StopFailedEarlier { state, .. }
            | Error::GaveUp { state, .. }
            | Error::StillStopping { state }
            | Error::Reload { state, .. }
            | Error::ReloadAbandoned { state } => Some(state),
            Error::Cycle { .. }
            | Error::StopAll(_)
            | Error::Other(_)
            | Error::Open { .. }
            | Error::Close { .. }
            | Error::ClosePanicked { .. }
            | Error::CloseAll { .. }
            | Error::Rollback { .. }
            | Error::CloseInUse { .. } => None,
        }
    }

    /// The name of the resource the error is about, if it is about one (a `with_resources!`
    /// binding, `System.part` of a system, or a `defresource!` place).
    pub fn resource(&self) -> Option<&str> {
        match self {
            Error::Open { resource, .. }
            | Error::Close { resource, .. }
            | Error::ClosePanicked { resource, .. }
            | Error::CloseInUse { resource, .. } => Some(resource),
            Error::Rollback { error, .. } => error.resource(),
            _ => None,
        }
    }
}

impl From<BoxError> for Error {
    fn from(error: BoxError) -> Self {
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => Error::Other(error),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Other(Box::new(error))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Other(message.into())
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::Other(message.into())
    }
}

/// What a stop of several states did: what stopped, and every failure.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct StopReport {
    /// The names of the states that stopped, in the order they stopped.
    pub stopped: Vec<String>,
    /// The states that did not stop, each with its error, in the order they were tried.
    pub failed: Vec<(String, Error)>,
    /// The states skipped because the calling thread is stopping them already (a stop
    /// function that calls `stop()`): that outer stop finishes them.
    pub skipped: Vec<String>,
}

impl StopReport {
    /// True if every state stopped.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// `Ok(self)` if every state stopped, else `Err(Error::StopAll(self))`.
    pub fn into_result(self) -> Result<StopReport, Error> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(Error::StopAll(self))
        }
    }
}

impl fmt::Display for StopReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} states failed to stop",
            self.failed.len(),
            self.failed.len() + self.stopped.len()
        )?;
        for (_, error) in &self.failed {
            write!(f, "; {error}")?;
        }
        if self.stopped.is_empty() {
            write!(f, "; none stopped")
        } else {
            write!(f, "; stopped: {}", self.stopped.join(", "))
        }
    }
}

impl std::error::Error for StopReport {}

/// The errors of a list, joined with `; ` (for `Display`).
fn join(errors: &[Error]) -> String {
    let mut joined = String::new();
    for (at, error) in errors.iter().enumerate() {
        if at > 0 {
            joined.push_str("; ");
        }
        joined.push_str(&error.to_string());
    }
    joined
}

/// The unwind payload of a `get()` that failed inside a start (see `crate::unwind`), kept
/// crate-private so no user panic can be mistaken for it.
pub(crate) struct DependencyFailed(pub(crate) Error);

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    // Caught by something other than a start (a stop or a watch callback run inside a start).
    if let Some(DependencyFailed(error)) = payload.downcast_ref() {
        error.to_string()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}
