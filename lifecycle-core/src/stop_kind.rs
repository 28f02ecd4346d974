//! How generated code turns what an async state's stop function returned into a
//! [`StopFuture`]: a future (`stop = |v| async move { .. }`) is boxed as it is, and a plain
//! value (`stop = |v| log(v)`, `()` or `Result<(), E>`) becomes a ready future.
//!
//! Both are accepted by one expansion through autoref specialization: generated code calls
//! `(&returned).lifecycle_stop_kind()`, which finds [`FutureStopKind`] for a future (no
//! autoref needed) and [`PlainStopKind`] otherwise (one autoref), and the tag it returns
//! converts the value. Owns nothing else.
//!
//! Imports only `async_state` (its stop types) and `diagnostics` (the trait
//! [`StopReturn`](crate::diagnostics::StopReturn)); must not import `private`, which names it.

use crate::async_state::{box_stop, IntoStopFuture, StopFuture};
use crate::diagnostics::StopReturn;
use std::future::Future;

/// Not public API, used by generated code: the tag of a stop that returned a future.
pub struct FutureStop;

/// Not public API, used by generated code: the tag of a stop that returned `()` or a
/// `Result`.
pub struct PlainStop;

/// Not public API, used by generated code: picked for a stop that returned a future.
pub trait FutureStopKind {
    /// The tag that converts the returned future.
    #[inline]
    fn lifecycle_stop_kind(&self) -> FutureStop {
        FutureStop
    }
}

impl<F: Future> FutureStopKind for F {}

/// Not public API, used by generated code: picked for any other returned value, which must
/// then be `()` or `Result<(), E>`.
pub trait PlainStopKind {
    /// The tag that converts the returned value.
    #[inline]
    fn lifecycle_stop_kind(&self) -> PlainStop {
        PlainStop
    }
}

impl<R> PlainStopKind for &R {}

impl FutureStop {
    /// Boxes the future; its output must be `()` or `Result<(), E>`.
    #[inline]
    pub fn into_stop_future<F: IntoStopFuture>(self, future: F) -> StopFuture {
        box_stop(future)
    }
}

impl PlainStop {
    /// A ready future of the value converted into the stop's result.
    #[inline]
    pub fn into_stop_future<R: StopReturn>(self, returned: R) -> StopFuture {
        Box::pin(std::future::ready(returned.into_stop_result()))
    }
}
