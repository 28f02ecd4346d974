//! [`reload`] and [`reload_async`]: reload every realized state marked reloadable
//! (`#[defstate(reload)]`, [`StateInfo::reloadable`](crate::StateInfo::reloadable)), as
//! SIGHUP does under `#[lifecycle::main]`.
//!
//! Over the registry and each entry's reload (`kernel::reload`, through `Tracked`).
//!
//! Imports `error`, `exec` and `kernel`; must not import the drivers (`state`, `async_state`),
//! nor `shutdown`, whose SIGHUP thread calls it.

use crate::error::Error;
use crate::kernel::{self, Restarted};
use std::fmt;
use std::time::Duration;

/// What [`reload`] did: every reloadable state it reloaded (with what each reload stopped
/// and started), and every one whose reload failed, with its error (its old value keeps
/// serving).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ReloadReport {
    /// The states reloaded, oldest realization first, each with what its reload stopped and
    /// started (its dependents included).
    pub reloaded: Vec<(String, Restarted)>,
    /// The states whose reload failed, with the error ([`Error::Reload`] or
    /// [`Error::ReloadAbandoned`]).
    pub failed: Vec<(String, Error)>,
}

impl ReloadReport {
    /// True if no reload failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reloaded {} states ({} failed)",
            self.reloaded.len(),
            self.failed.len()
        )?;
        for (name, restarted) in &self.reloaded {
            write!(f, "\n  reloaded {name}")?;
            let others: Vec<&str> = restarted
                .started
                .iter()
                .map(String::as_str)
                .filter(|started| started != name)
                .collect();
            if !others.is_empty() {
                write!(f, " (restarted {})", others.join(", "))?;
            }
        }
        for (name, error) in &self.failed {
            write!(f, "\n  failed {name}: {error}")?;
        }
        Ok(())
    }
}

/// Reloads every realized state marked reloadable, oldest realization first (see
/// [`State::reload`](crate::State::reload)): each starts a new value beside the old one and
/// swaps it in only if that start succeeded, restarting its running dependents against it.
/// A failed reload leaves that state's old value serving and goes on with the others.
/// Unrealized states are left alone.
///
/// Sync states reload on this thread; async ones are driven here too (with
/// `exec`'s `block_on`), so tasks their start spawns need no runtime of their own — from
/// async code, or when the start spawns tasks onto a runtime, call
/// [`reload_async`]`().await` on that runtime.
///
/// ```
/// use lifecycle::{State, StateInfo};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// static GENERATION: AtomicU32 = AtomicU32::new(1);
/// let config = State::from_info(StateInfo::named("doc/reload/config").reloadable(), || {
///     Ok(GENERATION.load(Ordering::SeqCst))
/// });
/// assert_eq!(*config.get(), 1);
/// GENERATION.store(2, Ordering::SeqCst);
/// let report = lifecycle::reload();
/// assert!(report.is_ok(), "{report}");
/// assert!(report.reloaded.iter().any(|(name, _)| name == "doc/reload/config"));
/// assert_eq!(*config.get(), 2);
/// ```
pub fn reload() -> ReloadReport {
    crate::exec::block_on(reload_async(), Duration::MAX).expect("a reload without a deadline ends")
}

/// [`reload`] from async code: async states' new starts run in this task (so what they
/// spawn runs on this runtime); sync states' run on this thread as the future is polled.
pub async fn reload_async() -> ReloadReport {
    let reloadable: Vec<_> = kernel::world()
        .registry
        .iter()
        .filter(|(_, handle)| handle.get().info().is_reloadable())
        .map(|(_, handle)| handle.clone())
        .collect();
    let mut report = ReloadReport::default();
    for handle in reloadable {
        let name = handle.get().info().name().to_owned();
        match handle.get().reload_tracked().await {
            Ok(restarted) if restarted.started.is_empty() => {} // stopped meanwhile
            Ok(restarted) => report.reloaded.push((name, restarted)),
            Err(error) => report.failed.push((name, error)),
        }
    }
    report
}
