//! An async state's start and stop functions: plain functions (statics) or closures, each
//! returning a boxed future (the shape is the sync one's, `state::UserStart`/`UserStop`).
//!
//! Imports `error`, `kernel` and `state` (the shared shape); must not import `diagnostics`,
//! `stop_kind` or `private`, which are built on `async_state`.

use crate::error::BoxError;
use crate::kernel::BoxFuture;
use crate::state::{StopReturn, NoStop, UserStart, UserStop};
use std::future::Future;

/// What an async start function returns.
pub type StartFuture<T> = BoxFuture<'static, Result<T, BoxError>>;
/// What an async stop function returns.
pub type StopFuture = BoxFuture<'static, Result<(), BoxError>>;

/// An async state's start function.
pub(crate) type AsyncStartFn<T> = UserStart<StartFuture<T>>;
/// An async state's stop function.
pub(crate) type AsyncStopFn<T> = UserStop<T, StopFuture>;

pub(crate) struct AsyncDefinition<T> {
    pub(crate) start: AsyncStartFn<T>,
    pub(crate) stop: AsyncStopFn<T>,
}

impl NoStop for StopFuture {
    fn no_stop() -> Self {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Boxes a start future whose error converts into [`BoxError`].
pub fn box_start<T, E, F>(future: F) -> StartFuture<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    E: Into<BoxError>,
{
    Box::pin(async move { future.await.map_err(Into::into) })
}

/// Boxes a stop future whose output is `()` or `Result<(), E>`.
pub fn box_stop<F: IntoStopFuture>(future: F) -> StopFuture {
    future.into_stop_future()
}

/// What an async state's stop function returns: a `Send + 'static` future whose output is
/// `()` or `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "the stop function of an async state must return a future, not `{Self}`",
    label = "this stop function returns `{Self}`",
    note = "write `stop = |value| async move {{ ... }}`; its output may be `()` or `Result<(), E>`"
)]
pub trait IntoStopFuture: Send + 'static {
    /// Boxes the future, converting its output.
    fn into_stop_future(self) -> StopFuture;
}

impl<F> IntoStopFuture for F
where
    F: Future + Send + 'static,
    F::Output: StopReturn,
{
    fn into_stop_future(self) -> StopFuture {
        Box::pin(async move { self.await.into_stop_result() })
    }
}

pub(crate) fn dyn_start<T, E, F, S>(start: S) -> AsyncStartFn<T>
where
    S: Fn() -> F + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    E: Into<BoxError>,
{
    AsyncStartFn::closure(move || box_start(start()))
}

pub(crate) fn dyn_stop<T, F, S>(stop: S) -> AsyncStopFn<T>
where
    S: Fn(T) -> F + Send + Sync + 'static,
    F: IntoStopFuture,
{
    AsyncStopFn::closure(move |value| box_stop(stop(value)))
}
