//! [`AsyncResource`] and the async twins of the runtime of `with_resources!` and `mk_system!`:
//! a resource whose close is `async`, opened in a scope ([`AsyncOpened`]) or held by a system
//! ([`AsyncSystem`]).
//!
//! The normal path and the rollback of a failed start `.await` every close, newest first,
//! exactly like their sync twins. Only a scope left without reaching its end — a panic,
//! `return`/`?` out of the body, or the future dropped (cancelled) — cannot `.await` in
//! `Drop`: there the close is driven on the dropping thread, bounded by
//! [`stop_timeout`](crate::stop_timeout), and a failure is logged.
//!
//! Imports `error`, `exec`, `kernel` (the stop timeout), `resource` and `scope` (the sync twins);
//! must not import `diagnostics`, `stop_kind` or `private`, which are built on `async_state`.

use crate::exec::{block_on, catch_unwind_future};
use super::AsyncState;
use crate::error::{panic_message, Error};
use crate::kernel::stop_timeout;
use crate::resource::{Closer, Resource};
use crate::scope::{deref_to_held, Outcome};
use std::fmt;
use std::future::Future;

/// Something closed after use whose close is `async`: a server with a graceful shutdown, a
/// pool that drains, an async state.
///
/// Every [`Resource`] is an `AsyncResource` (its sync close runs when the future is polled),
/// so async scopes and systems take both.
///
/// ```
/// use lifecycle::{AsyncResource, Error};
///
/// struct Server;
///
/// impl AsyncResource for Server {
///     async fn close_async(self) -> Result<(), Error> {
///         // stop accepting, let open requests finish, ...
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an async resource",
    label = "this is not a `lifecycle::AsyncResource` (nor a `lifecycle::Resource`)",
    note = "implement `lifecycle::AsyncResource` for `{Self}`: `async fn close_async(self) -> Result<(), lifecycle::Error>`",
    note = "or `lifecycle::Resource` for a sync close",
    note = "if the expression returns a `Result`, add `?` to open the resource inside it"
)]
pub trait AsyncResource: Send {
    /// Closes the resource, releasing what it holds.
    fn close_async(self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A sync resource closes when the future is first polled.
impl<R: Resource + Send> AsyncResource for R {
    async fn close_async(self) -> Result<(), Error> {
        self.close()
    }
}

/// An async state is an async resource: closing it stops it ([`AsyncState::stop`]).
impl<T: Send + Sync + 'static> AsyncResource for AsyncState<T> {
    async fn close_async(self) -> Result<(), Error> {
        self.stop().await
    }
}

/// Checks, where the expression is, that its value is an [`AsyncResource`] (the only place
/// generated code requires it, so a value that is not one gives one error, there).
#[inline(always)]
pub fn resource_async<R: AsyncResource>(value: R) -> R {
    value
}

/// Closes `resource`, naming it in a failure; a panic (in the call or in any poll) is caught.
pub(crate) async fn close_named_async<R: AsyncResource>(
    name: &str,
    resource: R,
) -> Result<(), Error> {
    match catch_unwind_future(async move { resource.close_async().await }).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Error::Close {
            resource: name.to_owned(),
            source: Box::new(error),
        }),
        Err(payload) => Err(Error::ClosePanicked {
            resource: name.to_owned(),
            message: panic_message(&*payload),
        }),
    }
}

/// Closes `resource` into `closer` (used by the generated close of an async system's parts).
pub async fn close_into<R: AsyncResource>(closer: &mut Closer, name: &str, resource: R) {
    if let Err(error) = close_named_async(name, resource).await {
        closer.push(error);
    }
}

/// Closes `resource` from `Drop`, where nothing can be awaited: on this thread, bounded.
fn close_in_drop<R: AsyncResource>(name: &str, resource: R, what: &str) {
    let timeout = stop_timeout();
    match block_on(close_named_async(name, resource), timeout) {
        Some(Ok(())) => {}
        Some(Err(error)) => tracing::error!(resource = name, "closing {what} failed: {error}"),
        None => tracing::error!(
            resource = name,
            "closing {what} did not finish within {timeout:?}; its value was dropped"
        ),
    }
}

/// A resource opened by `with_resources!(async [...] { ... })`, or by an async system while
/// it starts. Derefs to the resource.
pub struct AsyncOpened<R: AsyncResource> {
    name: &'static str,
    /// `None` once closed or moved out.
    value: Option<R>,
}

impl<R: AsyncResource> AsyncOpened<R> {
    /// For generated code (through `__private`): holds `value`, opened under `name`.
    pub(crate) fn new(name: &'static str, value: R) -> Self {
        Self {
            name,
            value: Some(value),
        }
    }

    /// The name it was opened under: the binding, or `System.part`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// For generated code (through `__private`): the value, no longer closed by this guard.
    pub(crate) fn into_inner(mut self) -> R {
        match self.value.take() {
            Some(value) => value,
            None => unreachable!("an `AsyncOpened` is only emptied by consuming it"),
        }
    }

    /// For generated code (through `__private`): closes the value after what came later in the
    /// scope (`inner`), adding any failure to it.
    pub(crate) async fn close_after<T>(mut self, mut inner: Outcome<T>) -> Outcome<T> {
        if let Some(value) = self.value.take() {
            if let Err(error) = close_named_async(self.name, value).await {
                inner.push_close_error(error);
            }
        }
        inner
    }
}

impl<R: AsyncResource> Drop for AsyncOpened<R> {
    fn drop(&mut self) {
        // Only reached when the scope is left early (a panic, `return`, `?`, cancellation).
        if let Some(value) = self.value.take() {
            close_in_drop(self.name, value, "on scope exit");
        }
    }
}

deref_to_held!(AsyncOpened<R: AsyncResource>, value, "an `AsyncOpened` is only emptied by consuming it");

impl<R: AsyncResource + fmt::Debug> fmt::Debug for AsyncOpened<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The parts of an async `mk_system!` system: closes them in reverse declaration order.
pub trait AsyncParts: Sized + Send {
    /// Closes every part, last declared first, trying every one.
    fn close_parts_async(self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// An async system's parts, closed in reverse declaration order by
/// [`close`](Self::close)`.await`, or on drop (then on the dropping thread, bounded).
pub struct AsyncSystem<P: AsyncParts> {
    parts: Option<P>,
}

impl<P: AsyncParts> AsyncSystem<P> {
    /// Holds `parts`, which have all started.
    pub fn new(parts: P) -> Self {
        Self { parts: Some(parts) }
    }

    /// Closes the parts in reverse declaration order.
    pub async fn close(mut self) -> Result<(), Error> {
        match self.parts.take() {
            Some(parts) => parts.close_parts_async().await,
            None => Ok(()),
        }
    }
}

impl<P: AsyncParts> Drop for AsyncSystem<P> {
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            let timeout = stop_timeout();
            let system = std::any::type_name::<P>();
            match block_on(parts.close_parts_async(), timeout) {
                Some(Ok(())) => {}
                Some(Err(error)) => {
                    tracing::error!(system, "closing a dropped system failed: {error}");
                }
                None => tracing::error!(
                    system,
                    "closing a dropped system did not finish within {timeout:?}"
                ),
            }
        }
    }
}

deref_to_held!(AsyncSystem<P: AsyncParts>, parts, "a system's parts are only taken by consuming it");
