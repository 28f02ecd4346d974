//! [`Status`]: what a state is doing, as users see it.
//!
//! Imports nothing from the crate (a base module).

/// What a state is doing right now, from [`State::status`](crate::State::status),
/// [`AsyncState::status`](crate::AsyncState::status) and the entries of
/// [`lifecycle::status()`](crate::status()) ([`StateInfo::status`](crate::StateInfo::status)).
///
/// It agrees with what `get` does: `Realized` reads the value, `Unrealized` starts it,
/// `Starting` and `Stopping` wait for the start or stop in progress, `StopFailed` is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Not started (or stopped): the next `get` starts it.
    Unrealized,
    /// Its start function is running.
    Starting,
    /// Started: `get` returns the value.
    Realized,
    /// Its stop is waiting for guards or running its stop function.
    Stopping,
    /// Its stop failed (the stop function returned an error, panicked, or did not return
    /// within the bound of [`lifecycle::stop()`](crate::stop())).
    ///
    /// **The failed-stop rule.** The value is gone (or still held by the stop that was given
    /// up on), and the state says so until it is cleared: `get` and `try_get` report
    /// [`Error::StopFailedEarlier`](crate::Error::StopFailedEarlier), `stop` reports it
    /// too, and [`lifecycle::status()`](crate::status()) lists the state as failed.
    /// [`force_close`](crate::State::force_close) clears it — unless a stop that was given up
    /// on still holds the value, in which case it reports
    /// [`Error::StillStopping`](crate::Error::StillStopping) and may be called again once that
    /// stop returns. Every other state stays usable; nothing is poisoned.
    StopFailed,
    /// Its supervisor gave up on it: it failed more than `max_restarts` times within
    /// `within` (see [`Supervise`](crate::Supervise)).
    ///
    /// **The gave-up rule** (beside the failed-stop rule of `StopFailed`). The state and its
    /// dependents are stopped, and the state says so until it is cleared: `get` and
    /// `try_get` report [`Error::GaveUp`](crate::Error::GaveUp) (naming the state and its
    /// last failure), [`lifecycle::health()`](crate::health()) reports the process not live,
    /// and under `#[lifecycle::main]` the process tears down and exits with
    /// [`EXIT_GAVE_UP`](crate::EXIT_GAVE_UP). [`restart`](crate::State::restart) and
    /// [`force_close`](crate::State::force_close) clear it (and the supervisor's count);
    /// `stop` leaves it. Every other state stays usable.
    GaveUp,
}
