//! [`Closeable`]: any value made into a resource by a close function.
//!
//! Imports `error` and `state` (its `IntoStopResult`: a close function returns what a stop function
//! may); must not import `scope`, `slot`, `atom`, `shutdown` or `async_state`, which are built on
//! resources.

use crate::error::{BoxError, Error};
use crate::resource::{close_quietly, Resource};
use crate::state::StopReturn;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// A close function for a value of type `T`: any `FnOnce(T)` that returns `()` or
/// `Result<(), E>`.
pub trait CloseFn<T> {
    /// Calls the function with the value.
    fn call_close(self, value: T) -> Result<(), BoxError>;
}

impl<T, F, R> CloseFn<T> for F
where
    F: FnOnce(T) -> R,
    R: StopReturn,
{
    fn call_close(self, value: T) -> Result<(), BoxError> {
        self(value).into_stop_result()
    }
}

/// A value with a close function: a [`Resource`] that derefs to the value.
///
/// Made with [`closeable`]. Closing it (or dropping it unclosed) calls the function with the
/// value; a failure on drop is logged, since there is no caller to return it to.
///
/// The close function's type is the second parameter; it defaults to `fn(T)`, so a field of a
/// system can be written `Closeable<T>` when its close function is a closure that captures
/// nothing and returns `()`. Otherwise write the type out, e.g.
/// `Closeable<T, fn(T) -> Result<(), MyError>>`.
pub struct Closeable<T, F: CloseFn<T> = fn(T)> {
    /// `None` only after `close` or `into_inner` took it, and then the value is gone.
    inner: Option<(T, F)>,
}

/// Makes `value` a [`Resource`] closed by `close`.
///
/// ```
/// use lifecycle::{closeable, Resource};
/// use std::cell::Cell;
///
/// let closed = Cell::new(false);
/// let file = closeable(String::from("data.txt"), |name| {
///     assert_eq!(name, "data.txt");
///     closed.set(true);
/// });
/// assert_eq!(file.len(), 8);          // derefs to the value
/// file.close().unwrap();
/// assert!(closed.get());
/// ```
pub fn closeable<T, F: CloseFn<T>>(value: T, close: F) -> Closeable<T, F> {
    Closeable::new(value, close)
}

impl<T, F: CloseFn<T>> Closeable<T, F> {
    /// Makes `value` a resource closed by `close` (the same as [`closeable`]).
    pub fn new(value: T, close: F) -> Self {
        Self {
            inner: Some((value, close)),
        }
    }

    /// The value, without closing it: the close function is dropped unused.
    pub fn into_inner(mut self) -> T {
        self.take().0
    }

    fn take(&mut self) -> (T, F) {
        match self.inner.take() {
            Some(inner) => inner,
            None => unreachable!("a Closeable's value is only taken by consuming it"),
        }
    }

    fn value(&self) -> &T {
        match &self.inner {
            Some((value, _)) => value,
            None => unreachable!("a Closeable's value is only taken by consuming it"),
        }
    }
}

impl<T, F: CloseFn<T>> Resource for Closeable<T, F> {
    fn close(mut self) -> Result<(), Error> {
        let (value, close) = self.take();
        close.call_close(value).map_err(Error::from)
    }
}

impl<T, F: CloseFn<T>> Drop for Closeable<T, F> {
    fn drop(&mut self) {
        if let Some((value, close)) = self.inner.take() {
            close_quietly(std::any::type_name::<T>(), || {
                close.call_close(value).map_err(Error::from)
            });
        }
    }
}

impl<T, F: CloseFn<T>> Deref for Closeable<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value()
    }
}

impl<T, F: CloseFn<T>> DerefMut for Closeable<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Some((value, _)) => value,
            None => unreachable!("a Closeable's value is only taken by consuming it"),
        }
    }
}

impl<T: fmt::Debug, F: CloseFn<T>> fmt::Debug for Closeable<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Closeable").field(self.value()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn drop_closes_and_into_inner_does_not() {
        let closed = Cell::new(0);
        drop(closeable(1, |_| closed.set(closed.get() + 1)));
        assert_eq!(closed.get(), 1);
        let value = closeable(2, |_| closed.set(closed.get() + 1)).into_inner();
        assert_eq!((value, closed.get()), (2, 1));
    }

    #[test]
    fn close_returns_the_functions_error() {
        let error = closeable(3, |n| Err::<(), _>(format!("cannot close {n}")))
            .close()
            .unwrap_err();
        assert_eq!(error.to_string(), "cannot close 3");
    }

    #[test]
    fn a_non_capturing_closure_fits_the_default_type() {
        let mut resource: Closeable<Vec<u8>> = closeable(vec![1], |v| assert!(!v.is_empty()));
        resource.push(2);
        assert_eq!(*resource, [1, 2]);
        resource.close().unwrap();
    }
}
