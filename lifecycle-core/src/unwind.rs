//! A failed `get()`: inside a start it unwinds, without the panic hook, to the start that
//! called it, which turns it back into an error chain; outside a start it panics at the
//! caller's line.
//!
//! Owns raising and catching the unwind (its payload, `DependencyFailed`, lives in `error` so
//! that `panic_message` can read it). The kernel's outcomes call [`into_start_error`] on what a
//! start's `catch_unwind` caught, for sync and async drivers alike.
//!
//! Imports only `error` and `thread`; must not import `kernel` or the drivers, which use it.

use crate::error::{panic_message, DependencyFailed, Error};
use crate::thread;
use std::any::Any;
use std::panic::Location;

/// Ends a `get()` whose start failed with `error`.
///
/// Inside a start (this thread is running some state's start or polling an async one) it
/// unwinds with [`DependencyFailed`] through `resume_unwind`, which runs no panic hook, so
/// nothing is printed; the start's `catch_unwind` gets it back. Outside a start it panics
/// with the whole cause chain, at the caller's line.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn get_failed(error: Error) -> ! {
    let message = chain(&unwind_if_starting(error));
    panic!("{message}")
}

/// Like [`get_failed`], for a `get()` whose future is polled away from its caller: outside a
/// start the message names `caller`, the line that called `get`.
#[cold]
#[inline(never)]
pub(crate) fn get_failed_from(error: Error, caller: &'static Location<'static>) -> ! {
    let message = chain(&unwind_if_starting(error));
    panic!("{message} (in `get` called at {caller})")
}

/// Unwinds with `error` if this thread is inside a start; else gives it back.
fn unwind_if_starting(error: Error) -> Error {
    if thread::innermost_starting().is_some() {
        std::panic::resume_unwind(Box::new(DependencyFailed(error)))
    }
    error
}

/// The error for the start of `state` that unwound with `payload`: the dependency's error
/// as the source of [`Error::Start`] if a `get()` inside it failed, else
/// [`Error::StartPanicked`] with the panic message.
pub(crate) fn into_start_error(state: &str, payload: Box<dyn Any + Send>) -> Error {
    match payload.downcast::<DependencyFailed>() {
        Ok(failed) => Error::Start {
            state: state.to_owned(),
            source: Box::new(failed.0),
        },
        Err(payload) => Error::StartPanicked {
            state: state.to_owned(),
            message: panic_message(&*payload),
        },
    }
}

/// `error` and its sources, joined with `: `, skipping a cause its parent already shows.
fn chain(error: &Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_becomes_the_source_of_the_start_error() {
        let payload: Box<dyn Any + Send> = Box::new(DependencyFailed(Error::from("boom")));
        let error = into_start_error("outer", payload);
        assert_eq!(error.to_string(), "state `outer` failed to start: boom");
    }

    #[test]
    fn any_other_payload_is_a_panicked_start() {
        let error = into_start_error("outer", Box::new("bug"));
        assert!(matches!(error, Error::StartPanicked { message, .. } if message == "bug"));
    }

    #[test]
    fn a_payload_caught_elsewhere_reads_as_its_error() {
        let payload: Box<dyn Any + Send> = Box::new(DependencyFailed(Error::from("boom")));
        assert_eq!(panic_message(&*payload), "boom");
    }
}
