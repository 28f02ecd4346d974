//! Closing several resources in a row: every one is tried, panics are caught, and the
//! failures are collected in order.
//!
//! Imports `error` (and `resource`'s own `Resource`); must not import `scope`, `slot`, `atom`,
//! `shutdown` or `async_state`, which are built on resources.

use crate::error::{panic_message, Error};
use crate::resource::Resource;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Closes resources one after the other and collects what failed.
///
/// Used by the collections' [`Resource`] impls and by the code `with_resources!` and
/// `mk_system!` generate. A close that panics is caught and recorded as
/// [`Error::ClosePanicked`], so the resources after it still close. Collecting no error does
/// not allocate.
///
/// ```
/// use lifecycle::{closeable, resource::Closer};
///
/// let mut closer = Closer::new();
/// closer.close("b", closeable(2, |_| Err::<(), _>("b is stuck")));
/// closer.close("a", closeable(1, |_| ()));
/// let error = closer.finish().unwrap_err();
/// assert_eq!(error.to_string(), "resource `b` failed to close: b is stuck");
/// ```
#[derive(Debug, Default)]
#[must_use = "call `finish` to learn whether every close succeeded"]
pub struct Closer {
    errors: Vec<Error>,
}

impl Closer {
    /// A closer with no failures yet.
    pub const fn new() -> Self {
        Self { errors: Vec::new() }
    }

    /// Closes `resource`; a failure is recorded as [`Error::Close`] (or
    /// [`Error::ClosePanicked`]) naming `name`.
    pub fn close<R: Resource>(&mut self, name: &str, resource: R) {
        if let Err(error) = close_named(name, resource) {
            self.errors.push(error);
        }
    }

    /// For generated code (through `__private`): closes a value checked to be a resource
    /// (see `__private::resource`), like [`close`](Self::close).
    #[inline]
    pub(crate) fn close_checked<R>(&mut self, name: &str, resource: super::Checked<R>) {
        let (value, close) = resource.into_parts();
        if let Err(error) = close_named_with(name, value, close) {
            self.errors.push(error);
        }
    }

    /// Closes `resource`; a failure is recorded as it is (a panic names the type).
    pub(crate) fn close_unnamed<R: Resource>(&mut self, resource: R) {
        match catch_unwind(AssertUnwindSafe(|| resource.close())) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.errors.push(error),
            Err(payload) => self.errors.push(Error::ClosePanicked {
                resource: std::any::type_name::<R>().to_owned(),
                message: panic_message(&*payload),
            }),
        }
    }

    /// Records a failure that happened elsewhere.
    pub fn push(&mut self, error: Error) {
        self.errors.push(error);
    }

    /// True if nothing failed so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures so far, in the order the resources were closed.
    pub fn into_errors(self) -> Vec<Error> {
        self.errors
    }

    /// `Ok(())` if every close succeeded; the one failure; or [`Error::CloseAll`] with every
    /// failure.
    #[inline]
    pub fn finish(self) -> Result<(), Error> {
        close_errors(self.errors)
    }
}

/// `Ok(())` for no errors, the error for one, [`Error::CloseAll`] for several.
#[inline]
pub(crate) fn close_errors(errors: Vec<Error>) -> Result<(), Error> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(close_error(errors))
    }
}

/// One error for a non-empty list of close errors: the error itself, or [`Error::CloseAll`].
#[cold]
pub(crate) fn close_error(mut errors: Vec<Error>) -> Error {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        Error::CloseAll { errors }
    }
}

/// A type's `Resource::close`, as a function pointer.
pub(crate) type CloseFnPtr<R> = fn(R) -> Result<(), Error>;

/// Closes `resource`, naming it in any failure; a panic is caught.
#[inline]
pub(crate) fn close_named<R: Resource>(name: &str, resource: R) -> Result<(), Error> {
    close_named_with(name, resource, R::close)
}

/// Closes `resource` with `close` (its `Resource::close`, taken where the bound was checked),
/// naming it in any failure; a panic is caught.
///
/// Inlined, so the function pointer (a constant at every call site) becomes a direct call and
/// a system's close costs what the hand-written code costs; failures are built out of line.
#[inline]
pub(crate) fn close_named_with<R>(
    name: &str,
    resource: R,
    close: CloseFnPtr<R>,
) -> Result<(), Error> {
    match catch_unwind(AssertUnwindSafe(|| close(resource))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(closing_failed(name, error)),
        Err(payload) => Err(closing_panicked(name, &*payload)),
    }
}

#[cold]
fn closing_failed(name: &str, error: Error) -> Error {
    Error::Close {
        resource: name.to_owned(),
        source: Box::new(error),
    }
}

#[cold]
fn closing_panicked(name: &str, payload: &(dyn std::any::Any + Send)) -> Error {
    Error::ClosePanicked {
        resource: name.to_owned(),
        message: panic_message(payload),
    }
}

/// Runs `close` from a destructor: there is no caller to return an error to, so a failure is
/// logged. While the thread is already panicking, a panic in `close` is caught too (a second
/// panic would abort the process); otherwise it propagates like any panic in `drop`.
pub(crate) fn close_quietly(name: &str, close: impl FnOnce() -> Result<(), Error>) {
    let result = if std::thread::panicking() {
        catch_unwind(AssertUnwindSafe(close))
            .unwrap_or_else(|payload| Err(closing_panicked(name, &*payload)))
    } else {
        close()
    };
    if let Err(error) = result {
        tracing::error!(resource = name, "closing on drop failed: {error}");
    }
}
