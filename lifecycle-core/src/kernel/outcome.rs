//! How starts and stops end, for sync and async drivers alike: from what the user's function
//! gave to the error naming the state, the phase change, and the events.
//!
//! Runs outside the world lock (it formats user errors and drops panic payloads, both user
//! code), then concludes through the world's transitions. Part of the kernel.
//!
//! Imports the kernel's `phases`, `world`, `cell` and `restarted`, and the base modules `error`,
//! `info`, `thread`, `unwind` and `watch`; must not import `state` or `async_state`.

use super::phases::{Concluded, Ended, Ticket};
use super::world::{self, Granted};
use crate::error::{panic_message, BoxError, Error};
use crate::info::StateInfo;
use crate::thread::Key;
use crate::watch::{emit, Event};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use super::restarted::Restarted;

/// What running a start function gave: its result, or the payload of its panic.
pub(crate) type StartOutcome<T> = Result<Result<T, BoxError>, Box<dyn Any + Send>>;

/// What running a stop function gave: its result, or the payload of its panic.
pub(crate) type StopOutcome = Result<Result<(), BoxError>, Box<dyn Any + Send>>;

/// The start's value, or the error naming the state.
pub(crate) fn start_result<T>(info: &StateInfo, outcome: StartOutcome<T>) -> Result<T, Error> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(Error::Start {
            state: info.name().to_owned(),
            source,
        }),
        // A failed `get()` inside the start unwound to here: it becomes the error's source.
        Err(payload) => Err(crate::unwind::into_start_error(info.name(), payload)),
    }
}

/// The stop's failure, if it failed, as the error naming the state.
pub(crate) fn stop_failure(info: &StateInfo, outcome: StopOutcome) -> Option<Error> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(source)) => Some(Error::Stop {
            state: info.name().to_owned(),
            source,
        }),
        Err(payload) => Some(Error::StopPanicked {
            state: info.name().to_owned(),
            message: panic_message(&*payload),
        }),
    }
}

/// `error.to_string()`, which runs the user's `Display`: a panic there must not leave the
/// state's stop right held forever.
fn describe(info: &StateInfo, error: &Error) -> String {
    catch_unwind(AssertUnwindSafe(|| error.to_string())).unwrap_or_else(|_| {
        let state = info.name();
        format!("state `{state}` failed to stop (its error's Display panicked)")
    })
}

/// Tells watchers how a start ended.
pub(crate) fn announce_start(info: &StateInfo, result: &Result<(), Error>) {
    match result {
        Ok(()) => emit(&Event::Started, info),
        Err(error) => emit(&Event::StartFailed(error.to_string()), info),
    }
}

/// What a stop's grant leaves the driver to do: stop under the ticket, or nothing (`None`:
/// the state was not realized, or a force close cleared a failed state, here finished).
pub(crate) fn stop_ticket(info: &StateInfo, granted: Granted) -> Option<Ticket> {
    match granted {
        Granted::Stop(ticket) => Some(ticket),
        Granted::Cleared(released) => {
            released.finish();
            emit(&Event::Stopped, info);
            None
        }
        _ => None,
    }
}

/// Ends the stop `ticket` of `key` that took the value and ran the stop function: the phase
/// change, the events, and the caller's result. `force`: clear the state even if it failed.
pub(crate) fn finish_stop(
    info: &StateInfo,
    key: Key,
    ticket: Ticket,
    failure: Option<Error>,
    force: bool,
) -> Result<(), Error> {
    let message = failure.as_ref().map(|error| describe(info, error));
    let ended = Ended::Ran {
        failure: message.clone(),
        force,
    };
    match world::conclude_stop(key, ticket, ended) {
        Concluded::Failed => {
            emit(&Event::StopFailed(message.unwrap_or_default()), info);
            failure.map_or(Ok(()), Err)
        }
        Concluded::Stopped => {
            if let Some(message) = message {
                emit(&Event::StopFailed(message), info);
            }
            emit(&Event::Stopped, info);
            Ok(())
        }
        Concluded::Kept | Concluded::NotOurs => failure.map_or(Ok(()), Err),
    }
}

/// Ends the stop `ticket` of `key` that gave up before taking the value (`error` says why;
/// the caller has already reopened the cell to readers).
pub(crate) fn cancel_stop(info: &StateInfo, key: Key, ticket: Ticket, error: Error) -> Error {
    let _ = world::conclude_stop(key, ticket, Ended::Cancelled);
    emit(&Event::StopFailed(error.to_string()), info);
    error
}

/// What [`State::redefine`](crate::State::redefine) and
/// [`AsyncState::redefine`](crate::AsyncState::redefine) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Redefine {
    /// The new definition is in place; the next start uses it.
    Applied,
    /// The state is active, so nothing changed.
    Skipped,
}

/// Replaces a state's definition with `swap` (which returns the old one) unless the state is
/// active; holding the world lock keeps a start from beginning between the check and the
/// swap. The old definition (user closures) is dropped after the lock is released.
pub(crate) fn redefine<T, Old>(
    key: Key,
    info: &StateInfo,
    cell: &super::cell::ValueCell<T>,
    swap: impl FnOnce() -> Old,
) -> Redefine {
    let table = world::world();
    if cell.is_realized() || table.phase(key).is_some() {
        drop(table);
        emit(&Event::RedefineSkipped, info);
        return Redefine::Skipped;
    }
    let old = swap();
    drop(table);
    drop(old);
    Redefine::Applied
}
