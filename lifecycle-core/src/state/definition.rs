//! A state's start and stop functions, replaceable with `redefine`.

use crate::error::BoxError;
use std::sync::Arc;

pub(crate) type DynStart<T> = Arc<dyn Fn() -> Result<T, BoxError> + Send + Sync>;
pub(crate) type DynStop<T> = Arc<dyn Fn(T) -> Result<(), BoxError> + Send + Sync>;

/// How to start a state: a plain function (statics, const-constructible) or a closure.
pub(crate) enum StartFn<T> {
    Static(fn() -> Result<T, BoxError>),
    Dyn(DynStart<T>),
}

/// How to stop a state; `None` drops the value.
pub(crate) enum StopFn<T> {
    None,
    Static(fn(T) -> Result<(), BoxError>),
    Dyn(DynStop<T>),
}

pub(crate) struct Definition<T> {
    pub(crate) start: StartFn<T>,
    pub(crate) stop: StopFn<T>,
}

impl<T> StartFn<T> {
    pub(crate) fn call(&self) -> Result<T, BoxError> {
        match self {
            StartFn::Static(start) => start(),
            StartFn::Dyn(start) => start(),
        }
    }
}

impl<T> StopFn<T> {
    pub(crate) fn call(&self, value: T) -> Result<(), BoxError> {
        match self {
            StopFn::None => {
                drop(value);
                Ok(())
            }
            StopFn::Static(stop) => stop(value),
            StopFn::Dyn(stop) => stop(value),
        }
    }
}

impl<T> Clone for StartFn<T> {
    fn clone(&self) -> Self {
        match self {
            StartFn::Static(start) => StartFn::Static(*start),
            StartFn::Dyn(start) => StartFn::Dyn(Arc::clone(start)),
        }
    }
}

impl<T> Clone for StopFn<T> {
    fn clone(&self) -> Self {
        match self {
            StopFn::None => StopFn::None,
            StopFn::Static(stop) => StopFn::Static(*stop),
            StopFn::Dyn(stop) => StopFn::Dyn(Arc::clone(stop)),
        }
    }
}

/// What a stop function may return: `()` or `Result<(), E>` for any error `E`.
#[diagnostic::on_unimplemented(
    message = "a stop function must return `()` or `Result<(), E>`, not `{Self}`",
    label = "this stop function returns `{Self}`",
    note = "write `stop = |value| {{ value.close(); }}` to ignore a returned value"
)]
pub trait IntoStopResult {
    /// Converts the stop function's return value.
    fn into_stop_result(self) -> Result<(), BoxError>;
}

impl IntoStopResult for () {
    fn into_stop_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoStopResult for Result<(), E> {
    fn into_stop_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Wraps a stop closure whose return value is anything [`IntoStopResult`].
pub(crate) fn dyn_stop<T, S, R>(stop: S) -> DynStop<T>
where
    S: Fn(T) -> R + Send + Sync + 'static,
    R: IntoStopResult,
{
    Arc::new(move |value| stop(value).into_stop_result())
}
