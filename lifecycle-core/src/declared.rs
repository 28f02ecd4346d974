//! Every `#[defstate]` of the program, realized or not, collected at link time by `inventory`.
//!
//! Imports only `info`; the drivers implement [`DeclaredState`] for their cores.

use crate::info::StateInfo;
use std::collections::HashMap;
use std::sync::Once;

/// A static state as `declared()` lists it.
#[derive(Clone, Copy)]
pub struct Declaration {
    state: &'static dyn DeclaredState,
}

/// What `declared()` needs to know of a static state's core, whatever its value type; the
/// drivers implement it for their cores (so this module needs neither of them).
pub(crate) trait DeclaredState: Sync {
    /// The state's identity.
    fn info(&self) -> &StateInfo;
    /// True if it is started and not stopped.
    fn is_realized(&self) -> bool;
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
