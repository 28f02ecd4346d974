//! The runtime of `with_resources!` and `mk_system!`: a resource opened in a scope
//! ([`Opened`]), the outcome of opening, using and closing several of them ([`Outcome`]), and
//! a system's closed-on-drop parts ([`System`]).
//!
//! The macros open resources one by one, each into an [`Opened`] guard that closes it if the
//! scope is left early (a panic, a `return`). On the normal path each is closed explicitly in
//! reverse order with [`Opened::close_after`], which collects errors so they can be returned:
//! an error of opening comes first, the close errors of the rollback are attached after it.
//!
//! Imports `error` and `resource`; must not import `async_state` (whose async twins build on
//! this), `diagnostics`, `stop_kind` or `private`.

use crate::error::{BoxError, Error};
use crate::resource::{close_error, close_named_with, Checked, CloseFnPtr};
use std::fmt;
use std::ops::ControlFlow;

/// `Deref` and `DerefMut` of a guard (`Opened`, `System` and their async twins) to the value
/// it holds in `$field: Option<_>`, which only consuming the guard empties (`$what` says so).
macro_rules! deref_to_held {
    ($guard:ident<$p:ident $(: $bound:path)?>, $field:ident, $what:literal) => {
        impl<$p $(: $bound)?> ::std::ops::Deref for $guard<$p> {
            type Target = $p;

            #[inline]
            fn deref(&self) -> &$p {
                self.$field.as_ref().unwrap_or_else(|| unreachable!($what))
            }
        }

        impl<$p $(: $bound)?> ::std::ops::DerefMut for $guard<$p> {
            #[inline]
            fn deref_mut(&mut self) -> &mut $p {
                self.$field.as_mut().unwrap_or_else(|| unreachable!($what))
            }
        }
    };
}
pub(crate) use deref_to_held;

/// What `?` in a binding of `with_resources!` or in an initializer of `mk_system!` accepts: a
/// `Result` whose error converts into [`Error`] (any `std::error::Error + Send + Sync`, a
/// `String`, a `&str`, or a `lifecycle::Error` itself).
#[diagnostic::on_unimplemented(
    message = "`?` in a `with_resources!` binding or a `mk_system!` initializer cannot be used \
               on `{Self}`",
    label = "`?` here needs a `Result` whose error converts into `lifecycle::Error`",
    note = "the error type must convert into `Box<dyn std::error::Error + Send + Sync>`"
)]
pub trait Branch<T> {
    /// `Continue(value)` or `Break(error)`.
    ///
    /// (The value type is a parameter, not an associated type: for a type that is not a
    /// `Result`, there is then no projection left to fail a second time.)
    fn branch(self) -> ControlFlow<Error, T>;
}

impl<T, E: Into<BoxError>> Branch<T> for Result<T, E> {
    #[inline]
    fn branch(self) -> ControlFlow<Error, T> {
        match self {
            Ok(value) => ControlFlow::Continue(value),
            Err(error) => ControlFlow::Break(Error::from(error.into())),
        }
    }
}

/// The error of a resource `name` whose expression failed.
#[cold]
pub fn open_failed(name: &str, error: Error) -> Error {
    Error::Open {
        resource: name.to_owned(),
        source: Box::new(error),
    }
}

/// A resource opened by `with_resources!`, or by a `mk_system!` system while it starts: the
/// name of a binding (or of an earlier part, inside later initializers) is an `Opened`.
///
/// It derefs to the resource, so `db.query()` and `Handler::new(&db)` work as with the
/// resource itself; where a generic function needs the resource's own type, write `&*db`.
/// If the scope is left early (a panic, or `return`/`break`/`?` in the body), it closes the
/// resource when it drops; on the normal path the macro closes it explicitly and returns any
/// error.
pub struct Opened<R> {
    name: &'static str,
    /// `None` once closed or moved out.
    value: Option<R>,
    /// `R`'s `Resource::close`, kept when the value was checked.
    close: CloseFnPtr<R>,
}

impl<R> Opened<R> {
    /// For generated code (through `__private`): holds `value`, opened under `name`.
    #[inline]
    pub(crate) fn new(name: &'static str, value: Checked<R>) -> Self {
        let (value, close) = value.into_parts();
        Self {
            name,
            value: Some(value),
            close,
        }
    }

    /// The name it was opened under: the binding, or `System.part`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// For generated code (through `__private`): the value, no longer closed by this guard (a
    /// system keeps it).
    #[inline]
    pub(crate) fn into_inner(self) -> R {
        // Nothing else in an `Opened` needs dropping (a name and a function pointer), so
        // skipping its destructor leaks nothing and keeps the normal path free of it.
        let mut this = std::mem::ManuallyDrop::new(self);
        match this.value.take() {
            Some(value) => value,
            None => unreachable!("an `Opened` is only emptied by consuming it"),
        }
    }

    /// For generated code (through `__private`): closes the value after what came later in the
    /// scope (`inner`), adding any failure to it.
    #[inline]
    pub(crate) fn close_after<T>(self, mut inner: Outcome<T>) -> Outcome<T> {
        // Closed here, so its destructor has nothing left to do (see `into_inner`).
        let mut this = std::mem::ManuallyDrop::new(self);
        if let Some(value) = this.value.take() {
            if let Err(error) = close_named_with(this.name, value, this.close) {
                inner.close_errors.push(error);
            }
        }
        inner
    }
}

impl<R> Drop for Opened<R> {
    #[inline]
    fn drop(&mut self) {
        // Only reached when the scope is left early (a panic, `return`, `break`): the normal
        // path consumes it. `close_named_with` catches a panic of `close`, so a panicking
        // body's unwinding is never turned into an abort.
        if let Some(value) = self.value.take() {
            if let Err(error) = close_named_with(self.name, value, self.close) {
                tracing::error!(
                    resource = self.name,
                    "closing on scope exit failed: {error}"
                );
            }
        }
    }
}

deref_to_held!(Opened<R>, value, "an `Opened` is only emptied by consuming it");

impl<R: fmt::Debug> fmt::Debug for Opened<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: fmt::Display> fmt::Display for Opened<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The outcome of opening resources, running a body and closing them again.
#[must_use = "call `finish` to get the result"]
pub struct Outcome<T> {
    result: Result<T, Error>,
    close_errors: Vec<Error>,
}

impl<T> Outcome<T> {
    /// Everything opened and the body gave `value`.
    #[inline]
    pub fn ok(value: T) -> Self {
        Self {
            result: Ok(value),
            close_errors: Vec::new(),
        }
    }

    /// Opening (or starting) failed with `error`.
    #[cold]
    pub fn failed(error: Error) -> Self {
        Self {
            result: Err(error),
            close_errors: Vec::new(),
        }
    }

    /// Adds the failure of a close (used by the async twin, `AsyncOpened::close_after`).
    pub(crate) fn push_close_error(&mut self, error: Error) {
        self.close_errors.push(error);
    }

    /// The value; or the error of opening with the close errors attached
    /// ([`Error::Rollback`]); or the close errors.
    #[inline]
    pub fn finish(self) -> Result<T, Error> {
        match (self.result, self.close_errors.is_empty()) {
            (Ok(value), true) => Ok(value),
            (Ok(_), false) => Err(close_error(self.close_errors)),
            (Err(error), true) => Err(error),
            (Err(error), false) => Err(Error::Rollback {
                error: Box::new(error),
                close_errors: self.close_errors,
            }),
        }
    }
}

/// The parts of a `mk_system!` system: closes them in reverse declaration order.
pub trait Parts: Sized {
    /// Closes every part, last declared first, trying every one.
    fn close_parts(self) -> Result<(), Error>;
}

/// A system's parts, closed in reverse declaration order by [`close`](Self::close) or on drop.
///
/// No allocation: the parts are stored inline.
pub struct System<P: Parts> {
    /// `None` only after `close` took the parts.
    parts: Option<P>,
}

impl<P: Parts> System<P> {
    /// Holds `parts`, which have all started.
    #[inline]
    pub fn new(parts: P) -> Self {
        Self { parts: Some(parts) }
    }

    /// Closes the parts in reverse declaration order.
    #[inline]
    pub fn close(self) -> Result<(), Error> {
        // The parts are taken here, so the destructor has nothing left to do.
        let mut this = std::mem::ManuallyDrop::new(self);
        match this.parts.take() {
            Some(parts) => parts.close_parts(),
            None => Ok(()),
        }
    }
}

impl<P: Parts> Drop for System<P> {
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            if let Err(error) = parts.close_parts() {
                tracing::error!(
                    system = std::any::type_name::<P>(),
                    "closing a dropped system failed: {error}"
                );
            }
        }
    }
}

deref_to_held!(System<P: Parts>, parts, "a system's parts are only taken by consuming it");

impl<P: Parts + fmt::Debug> fmt::Debug for System<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
