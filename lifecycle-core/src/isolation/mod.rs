//! Private worlds: [`isolate`], [`isolate_async`], and the scope of a thread's bindings.
//!
//! Owns the rule that a binding never escapes its thread (documented once, on [`isolate`]),
//! the per-thread stack of scopes (`scope`) and their teardown. The drivers (`state/`,
//! `async_state/`) consult it on their slow path only, and hand it, with each private value,
//! how to stop it ([`scope::Teardown`]), so this module names no driver.
//!
//! Imports only the base modules `error`, `info` and `thread`; must not import the drivers
//! (`state`, `async_state`) or `stop_worker`, which consult it.

pub(crate) mod scope;

use crate::error::{Error, StopReport};
use crate::info::StateInfo;
use crate::thread;
use scope::{Opener, Scope};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Poll;

/// Runs `f` in a private world: every state `f` starts on this thread is its own, invisible
/// to other threads, and stopped in reverse start order when `f` returns or unwinds.
///
/// This is the one place the isolation rule is written down; [`State::bind`] and the README
/// link here.
///
/// # The rule: a binding never escapes its thread
///
/// * A thread has a *scope* while it holds a binding guard ([`State::bind`]) or runs inside
///   `isolate` (or polls an [`isolate_async`] future). Bindings made inside a scope join it
///   (what is started under them stays private until that scope ends); a binding made on a
///   thread without a scope opens one, which ends when the last binding guard of that thread
///   drops.
/// * While a scope is active, a state that this thread *starts* is private to the scope: its
///   value is cached for this thread (seen only by reads on this thread inside the scope),
///   never published to other threads, not listed by the process's [`status()`] or
///   [`graph()`], and stopped — newest first, its stop function running with the scope's
///   bindings still visible — when the scope ends: the outermost binding guard drops, or
///   `isolate` returns or unwinds.
/// * A read inside a scope resolves, in order: the binding → the scope's private value → a
///   value already realized globally (started before by a thread without a scope, so never
///   built from a binding) → a private start. So a dependent of a bound state (a listener
///   whose start reads a bound config) is private too, and other threads never see it.
/// * The dependencies of private starts are recorded in the scope, not in the global graph.
///   [`State::stop`] inside the scope stops the private value (its private dependents
///   first); [`is_realized`](crate::State::is_realized) and
///   [`status`](crate::State::status) describe what a read would see: the private value if
///   there is one, else the global state. [`stop()`](crate::stop()) does not reach private
///   values (they are not in the registry). Private starts and stops emit no [`Event`]s.
/// * Threads spawned inside a scope do not inherit it (nor the bindings): they read and start
///   the global states. Tasks spawned inside [`isolate_async`] do not either.
/// * Scopes nest: an `isolate` inside a scope reads the outer scope's private values, and
///   what it starts itself is stopped when it returns.
/// * A guard that outlives its scope (returned from `f`, or an owned handle moved to another
///   thread) keeps the private value alive: its stop function is then skipped and the
///   teardown reports [`Error::StillInUse`].
///
/// What the teardown failed to stop is logged with `tracing` (at `ERROR`); use
/// [`try_isolate`] to get it as an error instead. A panic in `f` propagates after the
/// teardown.
///
/// ```
/// use lifecycle::State;
/// use std::sync::Arc;
///
/// let port = Arc::new(State::new("port", || Ok(8080_u16)));
/// let url = {
///     let port = Arc::clone(&port);
///     State::new("url", move || Ok(format!("http://localhost:{}", *port.get())))
/// };
///
/// let seen = lifecycle::isolate(|| {
///     let _test_port = port.bind(0);
///     url.get().clone() // a private `url`, built from the bound port
/// });
/// assert_eq!(seen, "http://localhost:0");
/// assert!(!url.is_realized()); // stopped with the scope, never published
/// assert_eq!(*url.get(), "http://localhost:8080");
/// ```
///
/// [`State::bind`]: crate::State::bind
/// [`State::stop`]: crate::State::stop
/// [`status()`]: crate::status
/// [`graph()`]: crate::graph
/// [`Event`]: crate::Event
pub fn isolate<R>(f: impl FnOnce() -> R) -> R {
    let (outcome, report) = run(f);
    log_failures("isolate", &report);
    outcome.unwrap_or_else(|payload| resume_unwind(payload))
}

/// Like [`isolate`], returning what the teardown failed to stop as
/// [`Error::StopAll`] (and dropping `f`'s result) instead of logging it.
///
/// ```
/// use lifecycle::State;
///
/// let db = State::new("db", || Ok("pool")).with_stop(|_| Err::<(), _>("disk full"));
/// let error = lifecycle::try_isolate(|| *db.get()).unwrap_err();
/// assert!(error.to_string().contains("disk full"));
/// assert!(!db.is_realized());
/// ```
pub fn try_isolate<R>(f: impl FnOnce() -> R) -> Result<R, Error> {
    let (outcome, report) = run(f);
    let value = outcome.unwrap_or_else(|payload| resume_unwind(payload));
    report.into_result().map(|_| value)
}

type Outcome<R> = Result<R, Box<dyn std::any::Any + Send>>;

fn run<R>(f: impl FnOnce() -> R) -> (Outcome<R>, StopReport) {
    let scope = Scope::new(Opener::Isolate);
    let id = scope.id();
    scope::install(scope);
    let outcome = catch_unwind(AssertUnwindSafe(f));
    (outcome, teardown(id))
}

/// Stops every private value of the installed scope `id`, newest first (a stop function that
/// starts a state adds it to the scope, and it is stopped too), then uninstalls the scope.
pub(crate) fn teardown(id: u64) -> StopReport {
    let mut report = StopReport::default();
    while let Some(entry) = scope::pop(id) {
        let info = entry.info.clone();
        record(&mut report, &info, scope::stop_entry(entry));
    }
    drop(scope::uninstall(id));
    report
}

fn record(report: &mut StopReport, info: &StateInfo, result: Result<(), Error>) {
    let name = info.name().to_owned();
    match result {
        Ok(()) => report.stopped.push(name),
        Err(error) => report.failed.push((name, error)),
    }
}

pub(crate) fn log_failures(what: &str, report: &StopReport) {
    for (state, error) in &report.failed {
        tracing::error!(state = %state, "the teardown of {what} failed: {error}");
    }
}

/// Runs `future` in a private world, like [`isolate`]: every state it starts (sync or async,
/// in any poll, on whichever worker thread polls it) is its own and is stopped in reverse
/// start order when it completes or panics; async stops are awaited.
///
/// The scope is entered around each poll of `future`, so it follows the task across worker
/// threads and never stays on a thread between polls. Tasks it spawns do not inherit it.
/// Reads joined inside it (`join!`) share one private start per state. If
/// the future is dropped before it completes, the teardown runs in the drop, on that thread
/// (async stops are then driven by parking it).
///
/// ```
/// use lifecycle::AsyncState;
///
/// # lifecycle::__private::block_on(async {
/// let session = AsyncState::new("session", || async { Ok::<_, std::io::Error>(7) });
/// let seen = lifecycle::isolate_async(async { *session.get().await }).await;
/// assert_eq!(seen, 7);
/// assert!(!session.is_realized());
/// # });
/// ```
pub async fn isolate_async<F: Future>(future: F) -> F::Output {
    let (outcome, report) = run_async(future).await;
    log_failures("isolate_async", &report);
    outcome.unwrap_or_else(|payload| resume_unwind(payload))
}

/// Like [`isolate_async`], returning what the teardown failed to stop as
/// [`Error::StopAll`] instead of logging it.
pub async fn try_isolate_async<F: Future>(future: F) -> Result<F::Output, Error> {
    let (outcome, report) = run_async(future).await;
    let value = outcome.unwrap_or_else(|payload| resume_unwind(payload));
    report.into_result().map(|_| value)
}

async fn run_async<F: Future>(future: F) -> (Outcome<F::Output>, StopReport) {
    let mut held = Held(Some(Scope::new(Opener::Isolate)));
    let mut future = Some(Box::pin(future));
    let outcome = std::future::poll_fn(|cx| {
        let polled = held.enter(|| {
            let inner = future.as_mut().expect("polled until ready").as_mut();
            catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
        });
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await;
    // What the future still holds (a guard of a private value) goes before the teardown.
    held.enter(|| drop(future.take()));
    let report = held.teardown_async().await;
    (outcome, report)
}

/// An async scope between polls; a scope dropped before its teardown (a cancelled
/// `isolate_async`) is torn down in the drop.
struct Held(Option<Scope>);

impl Held {
    /// Runs `f` with the scope installed on this thread.
    fn enter<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let Some(scope) = self.0.take() else {
            return f();
        };
        let id = scope.id();
        scope::install(scope);
        let result = f();
        self.0 = scope::uninstall(id);
        result
    }

    async fn teardown_async(&mut self) -> StopReport {
        let mut report = StopReport::default();
        while let Some(entry) = self.0.as_mut().and_then(Scope::pop) {
            let scope::Entry {
                key,
                info,
                value,
                teardown,
            } = entry;
            let mut stopping = teardown.stop_async(value);
            let result = std::future::poll_fn(|cx| {
                self.enter(|| {
                    let _stopping = thread::stopping(key);
                    stopping.as_mut().poll(cx)
                })
            })
            .await;
            record(&mut report, &info, result);
        }
        self.0 = None;
        report
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(scope) = self.0.take() {
            let id = scope.id();
            scope::install(scope);
            let report = teardown(id);
            log_failures("a cancelled isolate_async", &report);
        }
    }
}
