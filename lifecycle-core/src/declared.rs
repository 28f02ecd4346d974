//! Every `#[defstate]` of the program, realized or not, collected at link time by `inventory`.

use crate::async_state::AsyncCore;
use crate::info::StateInfo;
use crate::state::Core;
use std::collections::HashMap;
use std::sync::Once;

/// A static state as `declared()` lists it.
#[derive(Clone, Copy)]
pub struct Declaration {
    state: &'static dyn DeclaredState,
}

/// What `declared()` needs to know of a static state's core, whatever its value type.
trait DeclaredState: Sync {
    fn info(&self) -> &StateInfo;
    fn is_realized(&self) -> bool;
}

impl<T: Send + Sync + 'static> DeclaredState for Core<T> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    fn is_realized(&self) -> bool {
        self.cell.is_realized()
    }
}

impl<T: Send + Sync + 'static> DeclaredState for AsyncCore<T> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    fn is_realized(&self) -> bool {
        self.cell.is_realized()
    }
}

impl Declaration {
    /// Registers a static state's core (used by `#[defstate]`).
    #[doc(hidden)]
    pub const fn new<T: Send + Sync + 'static>(core: &'static Core<T>) -> Self {
        Self { state: core }
    }

    /// Registers a static async state's core (used by `#[defstate]` with `async { ... }`).
    #[doc(hidden)]
    pub const fn new_async<T: Send + Sync + 'static>(core: &'static AsyncCore<T>) -> Self {
        Self { state: core }
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
