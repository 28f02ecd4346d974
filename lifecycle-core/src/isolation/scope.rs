//! The scopes of this thread: a stack of private worlds, each holding the values of the
//! states this thread started inside it, in start order, with how to stop each one.
//!
//! A scope lives on the thread-local stack while it is *installed* (a sync `isolate`, the
//! bindings that opened it, one poll of an `isolate_async` future); between polls an async
//! scope is held by its future and the thread has no trace of it. Installing a scope makes
//! this thread's reads take the slow path (`thread::slow_add`), so plain threads keep the fast
//! path untouched.
//!
//! No user code runs while the stack is borrowed: lookups clone an `Arc` and return.
//!
//! Imports `error`, `info` and `thread`; must not import the drivers (`state`, `async_state`)
//! or `stop_worker`, which use it.

use crate::error::Error;
use crate::info::StateInfo;
use crate::thread::{self, Bound, Key};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

/// A boxed, `Send` stop future of a private value.
pub(crate) type StopFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// How to stop one private value: given by the driver that started it (sync or async), so
/// this module never names a driver.
pub(crate) trait Teardown: Send {
    /// Stops `value` on this thread (a sync teardown: `isolate`, a binding guard's drop).
    fn stop(self: Box<Self>, value: Bound) -> Result<(), Error>;
    /// Stops `value` in the task that polls the returned future (`isolate_async`).
    fn stop_async(self: Box<Self>, value: Bound) -> StopFuture;
}

/// One privately realized state.
pub(crate) struct Entry {
    pub(crate) key: Key,
    pub(crate) info: StateInfo,
    pub(crate) value: Bound,
    pub(crate) teardown: Box<dyn Teardown>,
}

/// What opened a scope, and so what ends it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Opener {
    /// `isolate` / `isolate_async`: ends when it returns.
    Isolate,
    /// A binding guard on a thread without a scope: ends when the last guard that joined it
    /// drops.
    Bindings,
}

/// A private world.
pub(crate) struct Scope {
    id: u64,
    opener: Opener,
    /// Binding guards that joined this scope and have not dropped.
    guards: usize,
    /// Privately realized states, in start order.
    entries: Vec<Entry>,
    /// `(dependent, dependency)`: what private starts read.
    edges: Vec<(Key, Key)>,
    /// The infos of the states started privately here (for names in cycle errors).
    names: HashMap<Key, StateInfo>,
    /// Async private starts in progress (another read in the same scope waits for them).
    in_flight: Vec<Key>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Scope {
    pub(crate) fn new(opener: Opener) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            opener,
            guards: 0,
            entries: Vec::new(),
            edges: Vec::new(),
            names: HashMap::new(),
            in_flight: Vec::new(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The newest private value, to stop next; `None` when the scope is empty.
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let entry = self.entries.pop()?;
        self.edges
            .retain(|(from, to)| *from != entry.key && *to != entry.key);
        Some(entry)
    }
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
}

fn with<R>(f: impl FnOnce(&mut Vec<Scope>) -> R) -> Option<R> {
    SCOPES
        .try_with(|scopes| scopes.try_borrow_mut().ok().map(|mut s| f(&mut s)))
        .ok()
        .flatten()
}

/// Puts `scope` on this thread's stack (innermost) until [`uninstall`].
pub(crate) fn install(scope: Scope) {
    if with(|scopes| scopes.push(scope)).is_some() {
        thread::slow_add(1);
    }
}

/// Takes the scope `id` off this thread's stack (wherever it is) and gives it back.
pub(crate) fn uninstall(id: u64) -> Option<Scope> {
    let scope = with(|scopes| {
        let at = scopes.iter().position(|scope| scope.id == id)?;
        Some(scopes.remove(at))
    })
    .flatten()?;
    thread::slow_add(-1);
    Some(scope)
}

/// Pops the newest entry of the installed scope `id`.
pub(crate) fn pop(id: u64) -> Option<Entry> {
    with(|scopes| scopes.iter_mut().find(|scope| scope.id == id)?.pop()).flatten()
}

/// True if this thread has a scope installed.
pub(crate) fn active() -> bool {
    with(|scopes| !scopes.is_empty()).unwrap_or(false)
}

/// The private value of `key` in this thread's scopes, innermost first.
pub(crate) fn private(key: Key) -> Option<Bound> {
    with(|scopes| {
        scopes.iter().rev().find_map(|scope| {
            scope
                .entries
                .iter()
                .find(|entry| entry.key == key)
                .map(|entry| std::sync::Arc::clone(&entry.value))
        })
    })
    .flatten()
}

/// Records that the start running on this thread read `key` (in the innermost scope).
pub(crate) fn record_dependency(key: Key) {
    let Some(dependent) = thread::innermost_starting() else {
        return;
    };
    if dependent == key {
        return;
    }
    with(|scopes| {
        if let Some(scope) = scopes.last_mut() {
            if !scope.edges.contains(&(dependent, key)) {
                scope.edges.push((dependent, key));
            }
        }
    });
}

/// Begins a private start of `key` on this thread: a cycle if this thread is already
/// starting it, a reentrant-stop error if it is stopping it; otherwise notes the start (for
/// the names of a cycle error). Shared by the sync and async drivers.
pub(crate) fn begin_start(key: Key, info: &StateInfo) -> Result<(), Error> {
    match thread::activity(key) {
        Some(thread::Activity::Start) => return Err(cycle(key)),
        Some(thread::Activity::Stop) => {
            return Err(Error::Reentrant {
                state: info.name().to_owned(),
                action: "stopping",
            })
        }
        None => {}
    }
    starting(key, info);
    Ok(())
}

/// How a scope stops a private value: the state's stop function (`S`: the sync or the async
/// driver's) and its identity. Each driver implements [`Teardown`] for its `Private`.
pub(crate) struct Private<S> {
    pub(crate) stop: S,
    pub(crate) info: StateInfo,
}

/// [`keep`] for a private start that ended in `started`: its value goes into the innermost
/// scope with `stop`; an error goes back to the read that started it.
pub(crate) fn keep_started<T: Send + Sync + 'static, S>(
    key: Key,
    info: &StateInfo,
    started: Result<T, Error>,
    stop: S,
) -> Result<Bound, Error>
where
    Private<S>: Teardown + 'static,
{
    let value: Bound = std::sync::Arc::new(started?);
    let teardown = Box::new(Private {
        stop,
        info: info.clone(),
    });
    Ok(keep(key, info, value, teardown))
}

/// Ends a private start that gave `value`: keeps it in the innermost scope with the
/// `teardown` that stops it, and hands it back to serve the read that started it.
pub(crate) fn keep(
    key: Key,
    info: &StateInfo,
    value: Bound,
    teardown: Box<dyn Teardown>,
) -> Bound {
    let entry = Entry {
        key,
        info: info.clone(),
        value: Bound::clone(&value),
        teardown,
    };
    if !insert(entry) {
        // The start ended the scope it ran in (it dropped the last binding guard): the value
        // serves this read and is dropped with its guard.
        tracing::warn!(state = %info.name(), "a private start outlived its scope");
    }
    value
}

/// Notes that this thread starts `key` privately (for the names of a cycle error).
fn starting(key: Key, info: &StateInfo) {
    with(|scopes| {
        if let Some(scope) = scopes.last_mut() {
            scope.names.entry(key).or_insert_with(|| info.clone());
        }
    });
}

/// The cycle error for a private start of `key` that this thread is already starting.
pub(crate) fn cycle(key: Key) -> Error {
    let keys = thread::active_from(key).unwrap_or_else(|| vec![key]);
    let name = |k: Key| {
        with(|scopes| {
            scopes
                .iter()
                .rev()
                .find_map(|scope| scope.names.get(&k).map(|info| info.name().to_owned()))
        })
        .flatten()
        .unwrap_or_else(|| format!("#{k:x}"))
    };
    Error::Cycle {
        cycle: keys.into_iter().chain([key]).map(name).collect(),
    }
}

/// True if a scope of this thread is starting `key` in another task of its future (two
/// reads joined in one `isolate_async`): the later read waits for that start.
pub(crate) fn in_flight(key: Key) -> bool {
    with(|scopes| scopes.iter().any(|scope| scope.in_flight.contains(&key))).unwrap_or(false)
}

/// Marks an async private start of `key` in the innermost scope until the guard drops.
pub(crate) fn fly(key: Key) -> Flight {
    let id = with(|scopes| {
        scopes.last_mut().map(|scope| {
            scope.in_flight.push(key);
            scope.id
        })
    })
    .flatten();
    Flight { id, key }
}

/// An async private start in progress; dropped when it ends or is cancelled (always inside
/// a poll of its scope's future, or with the scope itself).
pub(crate) struct Flight {
    id: Option<u64>,
    key: Key,
}

impl Drop for Flight {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        with(|scopes| {
            if let Some(scope) = scopes.iter_mut().find(|scope| scope.id == id) {
                if let Some(at) = scope.in_flight.iter().position(|k| *k == self.key) {
                    scope.in_flight.swap_remove(at);
                }
            }
        });
    }
}

/// Keeps a privately started value in the innermost scope; `false` if there is none (the
/// start ended its own scope): the entry is then dropped here, and the value lives only as
/// long as the read that started it.
fn insert(entry: Entry) -> bool {
    let mut entry = Some(entry);
    with(|scopes| {
        if let Some(scope) = scopes.last_mut() {
            scope.entries.push(entry.take().expect("inserted once"));
        }
    });
    entry.is_none()
}

/// Takes the private value of `key` out of the innermost scope holding it, with its private
/// dependents, newest first (the order to stop them in); `None` if no scope of this thread
/// holds `key`.
pub(crate) fn take_private(key: Key) -> Option<Vec<Entry>> {
    with(|scopes| {
        let scope = scopes
            .iter_mut()
            .rev()
            .find(|scope| scope.entries.iter().any(|entry| entry.key == key))?;
        // The dependents of `key`, transitively.
        let mut doomed = vec![key];
        let mut grew = true;
        while grew {
            grew = false;
            for (from, to) in &scope.edges {
                if doomed.contains(to) && !doomed.contains(from) {
                    doomed.push(*from);
                    grew = true;
                }
            }
        }
        let mut taken = Vec::new();
        let mut at = scope.entries.len();
        while at > 0 {
            at -= 1;
            if doomed.contains(&scope.entries[at].key) {
                taken.push(scope.entries.remove(at));
            }
        }
        scope
            .edges
            .retain(|(from, to)| !doomed.contains(from) && !doomed.contains(to));
        Some(taken)
    })
    .flatten()
}

/// Stops the private value of `key` (see [`take_private`]) on this thread; `None` if no
/// scope of this thread holds `key`. Every entry is tried; the first failure is returned.
pub(crate) fn stop_private(key: Key) -> Option<Result<(), Error>> {
    let mut result = Ok(());
    for entry in take_private(key)? {
        if let Err(error) = stop_entry(entry) {
            if result.is_ok() {
                result = Err(error);
            }
        }
    }
    Some(result)
}

/// The value of a private entry, to hand to its stop function: `StillInUse` if a guard or
/// handle still holds it (one that outlived its scope), and then it is dropped when that
/// goes, without its stop function.
pub(crate) fn take<T: std::any::Any + Send + Sync>(
    value: Bound,
    info: &StateInfo,
) -> Result<T, Error> {
    let Ok(value) = value.downcast::<T>() else {
        unreachable!("a private value has the type of its state")
    };
    std::sync::Arc::try_unwrap(value).map_err(|_| Error::StillInUse {
        state: info.name().to_owned(),
        waited: std::time::Duration::ZERO,
    })
}

/// Stops one entry on this thread, marked as stopping it.
pub(crate) fn stop_entry(entry: Entry) -> Result<(), Error> {
    let _stopping = thread::stopping(entry.key);
    entry.teardown.stop(entry.value)
}

/// A binding guard's membership in a scope: opens one if the thread has none, else joins
/// the innermost; the scope a binding opened ends when its last member drops.
pub(crate) struct Joined {
    id: u64,
}

/// Joins (or opens) this thread's innermost scope for a binding guard.
pub(crate) fn join() -> Joined {
    let joined = with(|scopes| {
        scopes.last_mut().map(|scope| {
            scope.guards += 1;
            scope.id
        })
    })
    .flatten();
    let id = joined.unwrap_or_else(|| {
        let mut scope = Scope::new(Opener::Bindings);
        scope.guards = 1;
        let id = scope.id;
        install(scope);
        id
    });
    Joined { id }
}

impl Drop for Joined {
    fn drop(&mut self) {
        let ends = with(|scopes| {
            let scope = scopes.iter_mut().find(|scope| scope.id == self.id)?;
            scope.guards -= 1;
            Some(scope.guards == 0 && scope.opener == Opener::Bindings)
        })
        .flatten()
        .unwrap_or(false);
        if ends {
            let report = super::teardown(self.id);
            super::log_failures("a binding scope", &report);
        }
    }
}
