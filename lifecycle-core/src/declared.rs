//! Every `#[defstate]` of the program, realized or not, collected at link time by `inventory`.
//!
//! The drivers implement [`DeclaredState`] for their cores.
//!
//! Imports `background`, `error`, `info`, `kernel` (its `BoxFuture` and `Tracked`) and
//! `thread`; must not import the drivers (`state`, `async_state`), which implement it, nor
//! `health` and `start_all`, which read it.

use crate::background;
use crate::error::Error;
use crate::info::StateInfo;
use crate::kernel::{BoxFuture, Tracked};
use std::collections::HashMap;
use std::sync::Once;

/// A static state as `declared()` lists it.
#[derive(Clone, Copy)]
pub struct Declaration {
    state: &'static dyn DeclaredState,
}

/// What `declared()` needs to know of a static state's core, whatever its value type; the
/// drivers implement it for their cores (so this module needs neither of them).
/// Its identity and whether it is started come from the kernel's [`Tracked`].
pub(crate) trait DeclaredState: Tracked {
    /// True for an async state (its start is a future).
    fn is_async(&self) -> bool;
    /// Realizes it on this thread, as a `get` would (an async state's start is driven here).
    fn start(&'static self) -> Result<(), Error>;
    /// Realizes an async state in a future (a sync state is never asked: see
    /// [`Declaration::start_async`]).
    fn start_async(&'static self) -> BoxFuture<'static, Result<(), Error>>;
}

impl Declaration {
    /// A declaration of a static state's core; the drivers' `new` and `new_async` (used by
    /// `#[defstate]`) call it.
    pub(crate) const fn of(state: &'static dyn DeclaredState) -> Self {
        Self { state }
    }

    /// The state's name, module, file, line and meta data.
    pub fn info(&self) -> &'static StateInfo {
        self.state.info()
    }

    /// The state's name.
    pub fn name(&self) -> &'static str {
        self.state.info().name()
    }

    /// True if it is started and not stopped.
    pub fn is_realized(&self) -> bool {
        self.state.is_realized()
    }

    /// The kernel's key of the state (the address of its core, as the drivers compute it).
    pub(crate) fn key(&self) -> crate::thread::Key {
        std::ptr::from_ref(self.state).cast::<()>() as crate::thread::Key
    }

    /// True if it is an async state ([`AsyncState`](crate::AsyncState)).
    pub fn is_async(&self) -> bool {
        self.state.is_async()
    }

    /// Realizes the state, whatever its value type, as a `get` would, and drops the guard:
    /// `Ok(())` once it is realized (by this call or another), or the error of its start.
    /// It starts once however many threads ask; a cycle is an error, as for `get`.
    ///
    /// An async state's start runs on this thread with the library's own executor, which is
    /// no async runtime: a start that needs one (tokio's timers or sockets) belongs in
    /// [`start_async`](Self::start_async), awaited on that runtime.
    ///
    /// ```
    /// for state in lifecycle::declared() {
    ///     if state.name().ends_with("::NEVER_DECLARED") {
    ///         state.start().unwrap();
    ///     }
    /// }
    /// ```
    pub fn start(&self) -> Result<(), Error> {
        self.state.start()
    }

    /// Realizes the state from async code: an async state's start is polled by the returned
    /// future (on the caller's executor); a sync state's start runs on a thread of its own,
    /// which the future waits for without blocking.
    pub fn start_async(&self) -> BoxFuture<'static, Result<(), Error>> {
        let state = self.state;
        if state.is_async() {
            state.start_async()
        } else {
            Box::pin(background::run(move || state.start()))
        }
    }
}

impl std::fmt::Debug for Declaration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declaration")
            .field("info", self.info())
            .field("realized", &self.is_realized())
            .finish()
    }
}

inventory::collect!(Declaration);

/// Every `#[defstate]` static of the program, realized or not, sorted by name.
///
/// ```
/// for state in lifecycle::declared() {
///     println!("{} at {}:{}", state.name(), state.info().file(), state.info().line());
/// }
/// ```
pub fn declared() -> Vec<Declaration> {
    let mut all: Vec<Declaration> = inventory::iter::<Declaration>
        .into_iter()
        .copied()
        .collect();
    all.sort_by(|a, b| {
        a.name()
            .cmp(b.name())
            .then(a.info().line().cmp(&b.info().line()))
    });
    warn_duplicates_once(&all);
    all
}

/// Warns once per process about two static states that share a name.
pub(crate) fn check_duplicates() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = declared();
    });
}

fn warn_duplicates_once(all: &[Declaration]) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (name, places) in duplicates(all) {
            tracing::warn!(
                state = name,
                "two states are declared under one name: {}",
                places.join(" and ")
            );
        }
    });
}

/// Names declared more than once, with every place.
pub(crate) fn duplicates(all: &[Declaration]) -> Vec<(&'static str, Vec<String>)> {
    let mut places: HashMap<&'static str, Vec<String>> = HashMap::new();
    for declaration in all {
        let info = declaration.info();
        places
            .entry(info.name())
            .or_default()
            .push(format!("{}:{}", info.file(), info.line()));
    }
    let mut found: Vec<_> = places.into_iter().filter(|(_, at)| at.len() > 1).collect();
    found.sort();
    found
}
