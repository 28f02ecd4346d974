//! A state's start and stop functions, replaceable with `redefine`: one shape for sync and
//! async states ([`UserStart`], [`UserStop`]), which differ only in what the functions return
//! (a result, or a boxed future of one).

use crate::error::BoxError;
use std::sync::Arc;

pub(crate) type DynStop<T> = Arc<dyn Fn(T) -> Result<(), BoxError> + Send + Sync>;

/// How to start a state, making `O`: a plain function (statics, const-constructible) or a
/// closure.
pub(crate) enum UserStart<O> {
    Static(fn() -> O),
    Dyn(Arc<dyn Fn() -> O + Send + Sync>),
}

/// How to stop a state's value `T`, giving `O`; `None` drops the value.
pub(crate) enum UserStop<T, O> {
    None,
    Static(fn(T) -> O),
    Dyn(Arc<dyn Fn(T) -> O + Send + Sync>),
}

/// What a stop gives when there is no stop function: success, at once.
pub(crate) trait NoStop {
    fn no_stop() -> Self;
}

impl NoStop for Result<(), BoxError> {
    fn no_stop() -> Self {
        Ok(())
    }
}

/// A sync state's start function.
pub(crate) type StartFn<T> = UserStart<Result<T, BoxError>>;
/// A sync state's stop function.
pub(crate) type StopFn<T> = UserStop<T, Result<(), BoxError>>;

pub(crate) struct Definition<T> {
    pub(crate) start: StartFn<T>,
    pub(crate) stop: StopFn<T>,
}

impl<O> UserStart<O> {
    /// Calls the start function (for async states it makes the start future, which runs user
    /// code too: the caller catches panics).
    pub(crate) fn call(&self) -> O {
        match self {
            UserStart::Static(start) => start(),
            UserStart::Dyn(start) => start(),
        }
    }
}

impl<T, O: NoStop> UserStop<T, O> {
    pub(crate) fn call(&self, value: T) -> O {
        match self {
            UserStop::None => {
                drop(value);
                O::no_stop()
            }
            UserStop::Static(stop) => stop(value),
            UserStop::Dyn(stop) => stop(value),
        }
    }
}

impl<O> Clone for UserStart<O> {
    fn clone(&self) -> Self {
        match self {
            UserStart::Static(start) => UserStart::Static(*start),
            UserStart::Dyn(start) => UserStart::Dyn(Arc::clone(start)),
        }
    }
}

impl<T, O> Clone for UserStop<T, O> {
    fn clone(&self) -> Self {
        match self {
            UserStop::None => UserStop::None,
            UserStop::Static(stop) => UserStop::Static(*stop),
            UserStop::Dyn(stop) => UserStop::Dyn(Arc::clone(stop)),
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
