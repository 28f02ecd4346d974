//! A state's start and stop functions, replaceable with `redefine`: one shape for sync and
//! async states ([`UserStart`], [`UserStop`]), which differ only in what the functions return
//! (a result, or a boxed future of one).
//!
//! Imports `code` (starts and stops are called through the jump table) and `error`; must not import
//! `async_state` or the resources built on states (`resource`, `scope`, `slot`, `atom`,
//! `shutdown`).

use crate::code::{self, CodeKey};
use crate::error::BoxError;
use std::sync::Arc;

/// How to start a state, making `O`: a plain function (statics, const-constructible) or a
/// closure (with the key of its code, see `code`).
pub(crate) enum UserStart<O> {
    Static(fn() -> O),
    Dyn(Arc<dyn Fn() -> O + Send + Sync>, CodeKey),
}

/// How to stop a state's value `T`, giving `O`; `None` drops the value.
pub(crate) enum UserStop<T, O> {
    None,
    Static(fn(T) -> O),
    Dyn(Arc<dyn Fn(T) -> O + Send + Sync>, CodeKey),
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
    /// A closure, called through the jump table (see `code`).
    pub(crate) fn closure(start: impl Fn() -> O + Send + Sync + 'static) -> Self {
        let key = code::key0(&start);
        UserStart::Dyn(Arc::new(move || code::call0(&start)), key)
    }

    /// Calls the start function as the newest patch has it (for async states it makes the
    /// start future, which runs user code too: the caller catches panics).
    pub(crate) fn call(&self) -> O {
        match self {
            UserStart::Static(start) => code::newest(*start)(),
            UserStart::Dyn(start, _) => start(),
        }
    }

    /// `call`, which calls this start around other work, as a start with this start's key:
    /// a patch is checked against the code it wraps.
    pub(crate) fn wrap(&self, call: impl Fn() -> O + Send + Sync + 'static) -> Self {
        UserStart::Dyn(Arc::new(call), self.key())
    }

    /// What a patch of this function is looked up by.
    pub(crate) fn key(&self) -> CodeKey {
        match self {
            UserStart::Static(start) => code::key_of(*start),
            UserStart::Dyn(_, key) => *key,
        }
    }
}

impl<T, O> UserStop<T, O> {
    /// A static state's stop function, if it has one (both flavours' `new_static`).
    pub(crate) const fn from_static(stop: Option<fn(T) -> O>) -> Self {
        match stop {
            Some(stop) => UserStop::Static(stop),
            None => UserStop::None,
        }
    }

    /// A closure, called through the jump table (see `code`).
    pub(crate) fn closure(stop: impl Fn(T) -> O + Send + Sync + 'static) -> Self {
        let key = code::key1(&stop);
        UserStop::Dyn(Arc::new(move |value| code::call1(&stop, value)), key)
    }

    /// What a patch of this function is looked up by (`None` when there is none).
    #[cfg(feature = "hot")]
    pub(crate) fn key(&self) -> Option<CodeKey> {
        match self {
            UserStop::None => None,
            UserStop::Static(stop) => Some(code::key_of(*stop)),
            UserStop::Dyn(_, key) => Some(*key),
        }
    }
}

impl<T, O: NoStop> UserStop<T, O> {
    /// Calls the stop function as the newest patch has it.
    pub(crate) fn call(&self, value: T) -> O {
        match self {
            UserStop::None => {
                drop(value);
                O::no_stop()
            }
            UserStop::Static(stop) => code::newest(*stop)(value),
            UserStop::Dyn(stop, _) => stop(value),
        }
    }
}

/// The keys of a definition's start and stop functions, as the jump table knows them.
#[cfg(feature = "hot")]
pub(crate) fn code_keys<T, S, P>(start: &UserStart<S>, stop: &UserStop<T, P>) -> Vec<u64> {
    std::iter::once(start.key())
        .chain(stop.key())
        .map(|key| key.0)
        .collect()
}

impl<O> Clone for UserStart<O> {
    fn clone(&self) -> Self {
        match self {
            UserStart::Static(start) => UserStart::Static(*start),
            UserStart::Dyn(start, key) => UserStart::Dyn(Arc::clone(start), *key),
        }
    }
}

impl<T, O> Clone for UserStop<T, O> {
    fn clone(&self) -> Self {
        match self {
            UserStop::None => UserStop::None,
            UserStop::Static(stop) => UserStop::Static(*stop),
            UserStop::Dyn(stop, key) => UserStop::Dyn(Arc::clone(stop), *key),
        }
    }
}

/// What a stop function may return: `()`, or `Result<(), E>` where `E` converts into
/// [`BoxError`] (any `std::error::Error + Send + Sync + 'static`, a `String` or a `&str`).
/// An async state's stop may also return a future whose output is one of these.
///
/// ```
/// # use lifecycle::prelude::*;
/// fn close(lines: Vec<String>) -> Result<(), std::io::Error> {
///     drop(lines);
///     Ok(())
/// }
/// #[defstate(stop = close)]
/// static LINES: Vec<String> = Vec::new();
/// # LINES.get();
/// # LINES.stop().unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "a stop function must return `()` or `Result<(), E>` with `E: std::error::Error + Send + Sync + 'static`, not `{Self}`",
    label = "this stop function returns `{Self}`",
    note = "write `stop = |value| {{ value.close(); }}` to ignore a returned value; convert other errors with `.map_err(...)`; an async state's stop may also return a future of these"
)]
pub trait StopReturn {
    /// Converts the returned value.
    fn into_stop_result(self) -> Result<(), BoxError>;
}

impl StopReturn for () {
    #[inline]
    fn into_stop_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> StopReturn for Result<(), E> {
    #[inline]
    fn into_stop_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Wraps a start closure whose error converts into [`BoxError`]; it is called through the
/// jump table (see `code`).
pub(crate) fn dyn_start<T, E, S>(start: S) -> StartFn<T>
where
    S: Fn() -> Result<T, E> + Send + Sync + 'static,
    E: Into<BoxError>,
{
    StartFn::closure(move || start().map_err(Into::into))
}

/// Wraps a stop closure whose return value is anything [`StopReturn`]; it is called
/// through the jump table (see `code`).
pub(crate) fn dyn_stop<T, S, R>(stop: S) -> StopFn<T>
where
    S: Fn(T) -> R + Send + Sync + 'static,
    R: StopReturn,
{
    StopFn::closure(move |value| stop(value).into_stop_result())
}
