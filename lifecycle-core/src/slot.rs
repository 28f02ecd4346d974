//! [`Slot<R>`]: the global place of `defresource!`, whose `define` closes the previous value
//! before it starts the next one.
//!
//! A slot is a static state underneath: its value is tracked by [`status`](crate::status) and
//! closed by [`stop`](crate::stop()) in the same reverse order as states, guards from
//! [`get`](Slot::get) keep a close waiting so the value never dangles, and its start records
//! which states it read (so restarting one of them closes the slot first). What differs from a
//! state: a slot never starts by itself; only [`define`](Slot::define) starts it.
//!
//! Imports `error`, `info`, `resource` and `state` (a slot is a static state underneath); must
//! not import `private`, which names its core.

use crate::error::{BoxError, Error};
use crate::info::StateInfo;
use crate::resource::Resource;
use crate::state::{Core, Redefine, Ref, State};
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// A global place for a resource, declared with `defresource!`.
///
/// ```
/// use lifecycle::{closeable, resource::Slot};
///
/// lifecycle::defresource!(
///     /// The port of the running server.
///     pub PORT: lifecycle::Closeable<u16>
/// );
///
/// PORT.define(|| Ok::<_, lifecycle::Error>(closeable(8080, |port| println!("closing {port}"))))
///     .unwrap();
/// assert_eq!(**PORT.get().unwrap(), 8080);
/// // Defining it again closes 8080 first, then starts the new value.
/// PORT.define(|| Ok::<_, lifecycle::Error>(closeable(8081, |port| println!("closing {port}"))))
///     .unwrap();
/// assert_eq!(**PORT.get().unwrap(), 8081);
/// PORT.close().unwrap();
/// assert!(PORT.get().is_none());
/// ```
pub struct Slot<R: Send + Sync + 'static> {
    state: State<R>,
    /// Serializes `define` and `close`, so a define never interleaves with another.
    define: Mutex<()>,
}

/// For generated code (through `__private`): the core of a slot's state.
pub(crate) const fn slot_core<R: Resource + Send + Sync + 'static>(info: StateInfo) -> Core<R> {
    Core::new_static(info, not_defined::<R>, Some(close_value::<R>))
}

fn not_defined<R>() -> Result<R, BoxError> {
    Err("the resource is not defined; call `define` first".into())
}

fn close_value<R: Resource>(value: R) -> Result<(), BoxError> {
    value.close().map_err(Into::into)
}

// No `Resource` bound here: `slot_core` checks it, so a type that is not a resource gives
// one error, on the type in `defresource!`.
impl<R: Send + Sync + 'static> Slot<R> {
    /// For generated code (through `__private`): a slot over the `static` core `core` (made
    /// with `slot_core`).
    pub(crate) const fn from_core(core: &'static Core<R>) -> Self {
        Self {
            state: State::from_static(core),
            define: Mutex::new(()),
        }
    }
}

impl<R: Resource + Send + Sync + 'static> Slot<R> {
    /// Closes the current value (if any), then starts a new one with `start`.
    ///
    /// If closing the current value fails, the slot is left empty and `start` is not run: the
    /// error ([`Error::Close`]) is returned. If `start` fails, the slot stays empty and its
    /// error comes back as [`Error::Open`]. Fails with [`Error::StillInUse`] (keeping the old
    /// value) if guards from [`get`](Self::get) are not released within the stop timeout.
    pub fn define<F, E>(&self, start: F) -> Result<(), Error>
    where
        F: FnOnce() -> Result<R, E> + Send + 'static,
        E: Into<BoxError>,
    {
        let _define = self.define.lock().unwrap_or_else(PoisonError::into_inner);
        self.close_locked()?;
        let start = Mutex::new(Some(start));
        let once = move || -> Result<R, BoxError> {
            let start = start
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or("the value given to `define` was already used; call `define` again")?;
            start().map_err(Into::into)
        };
        if self.state.redefine(once, close_value::<R>) == Redefine::Skipped {
            // Cannot happen while we hold the define lock: only `define` starts a slot.
            return Err(Error::other(format!(
                "resource `{}` was started while being defined",
                self.name()
            )));
        }
        match self.state.try_get() {
            Ok(_) => Ok(()),
            Err(Error::Start { state, source }) => Err(Error::Open {
                resource: state,
                source,
            }),
            Err(error) => Err(error),
        }
    }

    /// The current value, or `None` if the slot is empty. Never starts anything.
    ///
    /// While the guard is alive, [`close`](Self::close) and [`define`](Self::define) wait for
    /// it (up to the stop timeout).
    pub fn get(&self) -> Option<Ref<'_, R>> {
        self.state.peek()
    }

    /// True if the slot holds a value.
    pub fn is_defined(&self) -> bool {
        self.state.is_realized()
    }

    /// Closes the value and empties the slot; `Ok(())` if it was empty.
    ///
    /// The slot is empty afterwards even if `close` failed (the value was consumed), unless
    /// guards were still out ([`Error::StillInUse`]): then the value stays.
    pub fn close(&self) -> Result<(), Error> {
        let _define = self.define.lock().unwrap_or_else(PoisonError::into_inner);
        self.close_locked()
    }

    fn close_locked(&self) -> Result<(), Error> {
        match self.state.stop() {
            Ok(()) => Ok(()),
            // An earlier close (e.g. from `lifecycle::stop()`) failed and was reported then;
            // the value is gone, so clear the failure.
            Err(Error::StopFailedEarlier { .. }) => self.state.force_close(),
            Err(Error::Stop { state, source }) => {
                self.state.force_close()?;
                Err(Error::Close {
                    resource: state,
                    source,
                })
            }
            Err(Error::StopPanicked { state, message }) => {
                self.state.force_close()?;
                Err(Error::ClosePanicked {
                    resource: state,
                    message,
                })
            }
            Err(error) => Err(error),
        }
    }

    /// The slot's name: `"<module path>::<NAME>"`.
    pub fn name(&self) -> &str {
        self.state.name()
    }

    /// The slot's name and place of declaration.
    pub fn info(&self) -> &StateInfo {
        self.state.info()
    }
}

impl<R: Resource + Send + Sync + 'static> fmt::Debug for Slot<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("name", &self.name())
            .field("defined", &self.is_defined())
            .finish()
    }
}
