//! Supervision: a supervised state is restarted when it fails — its value reports it
//! ([`FailHandle`], `State::fail`) or its check returns an error — rest-for-one over the
//! recorded dependency graph (the kernel's one restart), with exponential backoff and
//! jitter, until it fails more than `max_restarts` times within `within` and gives up
//! ([`Status::GaveUp`](crate::Status::GaveUp)).
//!
//! `config` is the public [`Supervise`]; `machine` the pure decision logic (intensity
//! window, backoff, coalescing); `driver` its thin driver (a table and one worker thread);
//! `runtime` where restarts run (the tokio runtime the state started on, if any); `handle`
//! the public [`FailHandle`]; `subject` what the two drivers share of it (their
//! registering and their public supervision methods).
//!
//! Sits between the kernel and the drivers: the drivers (`state/`, `async_state/`) and `health`
//! call it. Imports only its own submodules; must not import `state`, `async_state`, `health`,
//! `shutdown` or `private`.

mod config;
pub(crate) mod driver;
mod handle;
mod machine;
mod runtime;
pub(crate) mod subject;

pub use config::Supervise;
pub use handle::FailHandle;

/// The exit code of a `#[lifecycle::main]` program whose supervisor gave up on a state: the
/// program tears down in reverse order and exits with it (`EX_SOFTWARE` of `sysexits.h`), so
/// an orchestrator restarts the process.
pub const EXIT_GAVE_UP: i32 = 70;

/// A static state's check, as `check = ...` of `#[defstate]` gives it.
pub type StaticCheck<T> = fn(&T) -> Result<(), String>;

/// The supervisor's form of a sync check: `check` on the value `read` lends (no check while
/// the state is not realized), answered at once. Every sync check — local or static, sync
/// or async state — goes through here.
pub(crate) fn sync_check<G, T, E>(
    read: impl Fn() -> Option<G> + Send + Sync + 'static,
    check: impl Fn(&T) -> Result<(), E> + Send + Sync + 'static,
) -> driver::Check
where
    G: std::ops::Deref<Target = T>,
    T: ?Sized,
    E: std::fmt::Display,
{
    std::sync::Arc::new(move || {
        let value = read()?;
        let result = check_result(check(&*value));
        Some(Box::pin(std::future::ready(result)))
    })
}

/// A check's result with its error as text.
pub(crate) fn check_result<E: std::fmt::Display>(result: Result<(), E>) -> Result<(), String> {
    result.map_err(|error| error.to_string())
}
