//! An async state's start and stop functions: plain functions (statics) or closures, each
//! returning a boxed future.

use crate::error::BoxError;
use crate::kernel::BoxFuture;
use crate::state::IntoStopResult;
use std::future::Future;
use std::sync::Arc;

/// What an async start function returns.
pub type StartFuture<T> = BoxFuture<'static, Result<T, BoxError>>;
/// What an async stop function returns.
pub type StopFuture = BoxFuture<'static, Result<(), BoxError>>;

type DynStart<T> = Arc<dyn Fn() -> StartFuture<T> + Send + Sync>;
type DynStop<T> = Arc<dyn Fn(T) -> StopFuture + Send + Sync>;

pub(crate) enum AsyncStartFn<T> {
    Static(fn() -> StartFuture<T>),
    Dyn(DynStart<T>),
}

pub(crate) enum AsyncStopFn<T> {
    /// Drop the value.
    None,
    Static(fn(T) -> StopFuture),
    Dyn(DynStop<T>),
}

pub(crate) struct AsyncDefinition<T> {
    pub(crate) start: AsyncStartFn<T>,
    pub(crate) stop: AsyncStopFn<T>,
}

impl<T> AsyncStartFn<T> {
    /// Makes the start future (user code runs here too: the caller catches panics).
    pub(crate) fn call(&self) -> StartFuture<T> {
        match self {
            AsyncStartFn::Static(start) => start(),
            AsyncStartFn::Dyn(start) => start(),
        }
    }
}

impl<T: Send + 'static> AsyncStopFn<T> {
    pub(crate) fn call(&self, value: T) -> StopFuture {
        match self {
            AsyncStopFn::None => {
                drop(value);
                Box::pin(std::future::ready(Ok(())))
            }
            AsyncStopFn::Static(stop) => stop(value),
            AsyncStopFn::Dyn(stop) => stop(value),
        }
    }
}

impl<T> Clone for AsyncStartFn<T> {
    fn clone(&self) -> Self {
        match self {
            AsyncStartFn::Static(start) => AsyncStartFn::Static(*start),
            AsyncStartFn::Dyn(start) => AsyncStartFn::Dyn(Arc::clone(start)),
        }
    }
}

impl<T> Clone for AsyncStopFn<T> {
    fn clone(&self) -> Self {
        match self {
            AsyncStopFn::None => AsyncStopFn::None,
            AsyncStopFn::Static(stop) => AsyncStopFn::Static(*stop),
            AsyncStopFn::Dyn(stop) => AsyncStopFn::Dyn(Arc::clone(stop)),
        }
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
    F::Output: IntoStopResult,
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
    AsyncStartFn::Dyn(Arc::new(move || box_start(start())))
}

pub(crate) fn dyn_stop<T, F, S>(stop: S) -> AsyncStopFn<T>
where
    S: Fn(T) -> F + Send + Sync + 'static,
    F: IntoStopFuture,
{
    AsyncStopFn::Dyn(Arc::new(move |value| box_stop(stop(value))))
}
