//! [`Checked`]: a value checked, where generated code names it, to be a [`Resource`], with
//! its `close` kept beside it — so the scopes and closers after it need no bound.
//!
//! Imports only `resource`'s own `close`; must not import `scope` (the scopes import this).

use super::close::CloseFnPtr;
use super::Resource;

/// Checks, where the expression is, that its value is a [`Resource`], and keeps its `close`.
///
/// This is the only place generated code requires `R: Resource`: the guards and closers
/// after it take a [`Checked`] value and need no bound, so a value that is not a resource
/// gives one error, on the user's expression or type.
#[inline(always)]
pub fn resource<R: Resource>(value: R) -> Checked<R> {
    Checked {
        value,
        close: R::close,
    }
}

/// A value checked to be a resource, with its `close`.
pub struct Checked<R> {
    value: R,
    close: CloseFnPtr<R>,
}

impl<R> Checked<R> {
    pub(crate) fn into_parts(self) -> (R, CloseFnPtr<R>) {
        (self.value, self.close)
    }
}
