//! The thin driver of the supervisor: one table of supervised states, one worker thread
//! that runs what each state's [`Machine`] decides (restarts, checks, giving up), and the
//! entry points the state drivers call (`register`, `started`, `fail`).
//!
//! No user code runs under the table's lock: checks, restarts and stops run on the worker
//! with the lock released, and events are emitted after it. The worker exists only while a
//! state needs it (a restart pending, or a realized state with a check): it ends when
//! nothing does, and the next `fail` or start spawns it again.
//!
//! Imports `error`, `info`, `kernel`, `status`, `thread` and `watch`; must not import `state`,
//! `async_state`, `health`, `shutdown` or `private`.

use super::config::Supervise;
use super::machine::{Action, Machine, Phase};
use super::runtime::Runtime;
use crate::error::Error;
use crate::info::StateInfo;
use crate::kernel::{self, restart, BoxFuture, Handle, Tracked};
use crate::status::Status;
use crate::thread::Key;
use crate::watch::{emit, Event};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

/// A state's check, type-erased by its driver: `None` if the state is not realized, else
/// the future of the check on its value (the error's `Display`).
pub(crate) type Check = Arc<dyn Fn() -> Option<BoxFuture<'static, Result<(), String>>> + Send + Sync>;

/// The supervised state: statics by reference, local states weakly (supervision does not
/// keep a dropped local state alive).
pub(crate) enum Target {
    Static(&'static dyn Tracked),
    Local(Weak<dyn Tracked>),
}

impl Target {
    /// The target of a registry handle (kept weakly if local).
    pub(crate) fn of(handle: Handle) -> Self {
        match handle {
            Handle::Static(tracked) => Target::Static(tracked),
            Handle::Shared(tracked) => Target::Local(Arc::downgrade(&tracked)),
        }
    }

    fn handle(&self) -> Option<Handle> {
        match self {
            Target::Static(tracked) => Some(Handle::Static(*tracked)),
            Target::Local(weak) => weak.upgrade().map(Handle::Shared),
        }
    }
}

struct Entry {
    info: StateInfo,
    target: Target,
    machine: Machine,
    check: Option<Check>,
    /// When the check runs next; `None` while the state is not known to be realized.
    next_check: Option<Instant>,
    runtime: Runtime,
    last_error: Option<String>,
    /// The last check passed (true until a check fails).
    check_ok: bool,
    /// Failed and not restarted yet: not ready.
    failing: bool,
    /// The backoff before the pending attempt.
    backoff: Duration,
    /// The dependents to bring back, kept across attempts whose start fails.
    dependents: Vec<(Key, Handle)>,
    give_up: bool,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    worker: bool,
}

struct Supervisor {
    table: Mutex<Table>,
    changed: Condvar,
    origin: Instant,
}

static SUPERVISOR: LazyLock<Supervisor> = LazyLock::new(|| Supervisor {
    table: Mutex::default(),
    changed: Condvar::new(),
    origin: Instant::now(),
});

/// What `#[lifecycle::main]` does once a supervisor gives up: tear down and exit.
static ON_GIVE_UP: OnceLock<fn()> = OnceLock::new();

fn table() -> MutexGuard<'static, Table> {
    SUPERVISOR
        .table
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn since_origin(at: Instant) -> Duration {
    at.saturating_duration_since(SUPERVISOR.origin)
}

/// Sets what runs after a supervisor gave up (the first call wins).
pub(crate) fn on_give_up(hook: fn()) {
    let _ = ON_GIVE_UP.set(hook);
}

/// The generation of `key`'s current (or starting) realization.
pub(crate) fn generation(key: Key) -> u64 {
    kernel::world().timings.generation(key)
}

/// Supervises `key` with `config` (replacing an earlier registration's config and check,
/// keeping its counts). `check`: `Some` sets or replaces the check.
pub(crate) fn register(
    key: Key,
    info: &StateInfo,
    target: Target,
    config: Option<Supervise>,
    check: Option<Check>,
) {
    let mut table = table();
    let seed = key as u64 ^ since_origin(Instant::now()).as_nanos() as u64;
    let entry = table.entries.entry(key).or_insert_with(|| Entry {
        info: info.clone(),
        target,
        machine: Machine::new(config.clone().unwrap_or_default(), seed),
        check: None,
        next_check: None,
        runtime: Runtime::default(),
        last_error: None,
        check_ok: true,
        failing: false,
        backoff: Duration::ZERO,
        dependents: Vec::new(),
        give_up: false,
    });
    if let Some(config) = config {
        if *entry.machine.config() != config {
            entry.machine = Machine::new(config, seed);
        }
    }
    if check.is_some() {
        entry.check = check;
    }
}

/// True if `key` is supervised.
pub(crate) fn is_supervised(key: Key) -> bool {
    table().entries.contains_key(&key)
}

/// A start of the supervised `key` begins (in its start function, on its runtime): keeps
/// the runtime, arms the check, and starts over after a give-up that was cleared.
pub(crate) fn started(key: Key) {
    let runtime = Runtime::current();
    let mut table = table();
    let Some(entry) = table.entries.get_mut(&key) else {
        return;
    };
    if runtime.is_some() || !matches!(entry.machine.phase(), Phase::Restarting { .. }) {
        entry.runtime = runtime;
    }
    if entry.machine.phase() == Phase::GaveUp {
        entry.machine.reset();
        entry.give_up = false;
    }
    entry.check_ok = true;
    if entry.check.is_some() {
        entry.next_check = Some(Instant::now() + entry.machine.config().interval);
        wake(table);
    }
}

/// The supervised `key` failed with `message`; `generation`: the realization the report is
/// about (`None`: the current one). Returns whether it was taken.
pub(crate) fn fail(key: Key, generation: Option<u64>, message: String) -> bool {
    let mut table = table();
    let Some(entry) = table.entries.get_mut(&key) else {
        return false;
    };
    let Some(handle) = entry.target.handle() else {
        return false;
    };
    let realized = handle.get().is_realized();
    let (status, current) = {
        let world = kernel::world();
        (world.status(key, realized), world.timings.generation(key))
    };
    if status != Status::Realized || generation.is_some_and(|g| g != current) {
        drop(table);
        drop(handle);
        return false;
    }
    let action = entry.machine.fail(since_origin(Instant::now()));
    if action == Action::None {
        return false;
    }
    entry.last_error = Some(message.clone());
    entry.failing = true;
    entry.dependents = restart::dependents(key);
    match action {
        Action::Schedule { delay, .. } => entry.backoff = delay,
        Action::GiveUp => entry.give_up = true,
        Action::None => {}
    }
    let info = entry.info.clone();
    tracing::warn!(state = %info.name(), "failed: {message}");
    wake(table);
    drop(handle);
    emit(&Event::Failed(message), &info);
    true
}

/// What health reports of a supervised state.
pub(crate) struct Supervised {
    pub(crate) restarts: u32,
    pub(crate) last_error: Option<String>,
    /// Failed and not back yet, or its last check failed.
    pub(crate) unready: bool,
}

/// What health reports of `key`, if it is supervised.
pub(crate) fn supervised(key: Key) -> Option<Supervised> {
    let table = table();
    let entry = table.entries.get(&key)?;
    Some(Supervised {
        restarts: entry.machine.restarts(),
        last_error: entry.last_error.clone(),
        unready: entry.failing || !entry.check_ok,
    })
}

/// Makes sure the worker runs and sees the change.
fn wake(mut table: MutexGuard<'static, Table>) {
    SUPERVISOR.changed.notify_all();
    if !table.worker {
        table.worker = true;
        drop(table);
        let spawned = std::thread::Builder::new()
            .name("lifecycle-supervisor".into())
            .spawn(work);
        if let Err(error) = spawned {
            tracing::error!("could not start the supervisor thread: {error}");
            table_reset_worker();
        }
    }
}

fn table_reset_worker() {
    table().worker = false;
}

/// One job of the worker.
enum Job {
    GiveUp(Key),
    Restart(Key, u32),
    Check(Key),
}

fn work() {
    loop {
        let mut table = table();
        let job = loop {
            let now = Instant::now();
            let (job, next) = next_job(&mut table, now);
            if let Some(job) = job {
                break job;
            }
            let Some(next) = next else {
                table.worker = false;
                return;
            };
            table = SUPERVISOR
                .changed
                .wait_timeout(table, next.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        drop(table);
        match job {
            Job::GiveUp(key) => give_up(key),
            Job::Restart(key, attempt) => run_restart(key, attempt),
            Job::Check(key) => run_check(key),
        }
    }
}

/// The job due now, or when the next one is due.
fn next_job(table: &mut Table, now: Instant) -> (Option<Job>, Option<Instant>) {
    let mut next: Option<Instant> = None;
    let mut soonest = |at: Instant| next = Some(next.map_or(at, |n| n.min(at)));
    let since = since_origin(now);
    for (&key, entry) in &mut table.entries {
        if entry.give_up {
            entry.give_up = false;
            return (Some(Job::GiveUp(key)), None);
        }
        if let Some(due) = entry.machine.due() {
            if let Some(attempt) = entry.machine.begin_attempt(since) {
                return (Some(Job::Restart(key, attempt)), None);
            }
            soonest(SUPERVISOR.origin + due);
            continue;
        }
        if entry.machine.phase() != Phase::Watching {
            continue;
        }
        if let Some(at) = entry.next_check {
            if at <= now {
                entry.next_check = Some(now + entry.machine.config().interval);
                return (Some(Job::Check(key)), None);
            }
            soonest(at);
        }
    }
    (None, next)
}

fn entry_parts(key: Key) -> Option<(Handle, StateInfo, Runtime)> {
    let mut table = table();
    let entry = table.entries.get(&key)?;
    match entry.target.handle() {
        Some(handle) => Some((handle, entry.info.clone(), entry.runtime.clone())),
        None => {
            // A local state that was dropped: nothing to supervise.
            table.entries.remove(&key);
            None
        }
    }
}

fn run_check(key: Key) {
    let Some(check) = table().entries.get(&key).and_then(|e| e.check.clone()) else {
        return;
    };
    let Some((handle, _, runtime)) = entry_parts(key) else {
        return;
    };
    drop(handle);
    let result = runtime.run(|| {
        let check = Arc::clone(&check);
        Box::pin(async move {
            match check() {
                Some(future) => Some(future.await),
                None => None,
            }
        })
    });
    match result {
        // Not realized (stopped by its user, or never started): the check waits for the
        // next start, and the worker may end.
        None => {
            if let Some(entry) = table().entries.get_mut(&key) {
                entry.next_check = None;
            }
        }
        Some(Ok(())) => {
            if let Some(entry) = table().entries.get_mut(&key) {
                entry.check_ok = true;
            }
        }
        Some(Err(message)) => {
            if let Some(entry) = table().entries.get_mut(&key) {
                entry.check_ok = false;
            }
            fail(key, None, format!("its check failed: {message}"));
        }
    }
}

fn run_restart(key: Key, attempt: u32) {
    let Some((handle, info, runtime)) = entry_parts(key) else {
        return;
    };
    let (backoff, dependents) = {
        let mut table = table();
        let Some(entry) = table.entries.get_mut(&key) else {
            return;
        };
        // The first attempt restarts a value that failed while realized: if it is not
        // realized any more, its user (or a teardown) stopped it meanwhile, and a user's stop
        // never restarts. (Later attempts follow a start that failed: not realized.)
        if attempt == 1 && !handle.get().is_realized() {
            entry.machine.cancel();
            entry.failing = false;
            entry.dependents.clear();
            drop(table);
            drop(handle);
            return;
        }
        (entry.backoff, std::mem::take(&mut entry.dependents))
    };
    emit(&Event::Restarting { attempt, backoff }, &info);
    tracing::info!(state = %info.name(), attempt, ?backoff, "restarting");
    let result: Result<(), Error> = {
        let kept = dependents.clone();
        let handle = handle.clone();
        runtime.run(move || {
            let (handle, dependents) = (handle.clone(), kept.clone());
            Box::pin(async move {
                restart::restart_with(key, &handle, dependents, true)
                    .await
                    .map(drop)
            })
        })
    };
    let mut table = table();
    let Some(entry) = table.entries.get_mut(&key) else {
        return;
    };
    let now = since_origin(Instant::now());
    let action = match &result {
        Ok(()) => {
            entry.failing = false;
            entry.machine.attempt_ended(now, true)
        }
        Err(error) => {
            entry.last_error = Some(error.to_string());
            entry.dependents = dependents;
            entry.machine.attempt_ended(now, false)
        }
    };
    match action {
        Action::Schedule { delay, .. } => entry.backoff = delay,
        Action::GiveUp => entry.give_up = true,
        Action::None => {}
    }
    drop(table);
    drop(handle);
}

fn give_up(key: Key) {
    let Some((handle, info, _)) = entry_parts(key) else {
        return;
    };
    let (last_error, mut dependents) = {
        let mut table = table();
        let Some(entry) = table.entries.get_mut(&key) else {
            return;
        };
        let last_error = entry.last_error.clone().unwrap_or_default();
        (last_error, std::mem::take(&mut entry.dependents))
    };
    kernel::world().give_up(key, last_error.clone());
    for dependent in restart::dependents(key) {
        if !dependents.iter().any(|(k, _)| *k == dependent.0) {
            dependents.push(dependent);
        }
    }
    for (_, dependent) in &dependents {
        if let Err(error) = dependent.get().stop_tracked(false) {
            tracing::error!(state = %dependent.get().info().name(), "{error}");
        }
    }
    if let Err(error) = handle.get().stop_tracked(false) {
        tracing::error!(state = %info.name(), "{error}");
    }
    drop(dependents);
    drop(handle);
    let config = table().entries.get(&key).map(|e| e.machine.config().clone());
    let config = config.unwrap_or_default();
    let message = format!(
        "gave up: failed more than {} times within {:?}; last error: {last_error}",
        config.max_restarts, config.within,
    );
    tracing::error!(state = %info.name(), "{message}");
    emit(&Event::GaveUp(message), &info);
    if let Some(hook) = ON_GIVE_UP.get() {
        hook();
    }
}
