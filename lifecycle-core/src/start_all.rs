//! [`start_all`], [`start_all_where`], [`start_all_async`], [`start_all_async_where`]: realize
//! declared states concurrently, each waiting only for what its start reads.
//!
//! Over `declared` (its type-erased start) and `status()` (for the recorded durations), with
//! `background` to wait for sync starts from async code.
//!
//! Imports `background`, `declared`, `error`, `global`, `info` and `kernel` (its `BoxFuture`);
//! must not import the drivers (`state`, `async_state`).

use crate::background;
use crate::declared::{declared, Declaration};
use crate::error::Error;
use crate::global::status;
use crate::info::StateInfo;
use crate::kernel::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// At most this many threads start sync states at once. A thread whose start waits for a
/// state another thread is starting just waits, and one that reads a state nobody started
/// yet starts it inline, so any bound finishes; this one is above any real chain width.
const MAX_THREADS: usize = 64;

/// What [`start_all`] did: every state it started (with how long its start took), every
/// failed start with its error, and the states that were already realized.
#[derive(Debug, Default)]
pub struct StartAllReport {
    /// The states this call realized, in the order their starts began, with each start's
    /// duration (which includes the time it waited for what it read).
    pub started: Vec<(String, Duration)>,
    /// Every state whose start failed, in declaration order, with its error. A state whose
    /// dependency failed fails too, with that failure as its error's source.
    pub failed: Vec<(String, Error)>,
    /// The states that were realized before the call (left as they were).
    pub already_realized: Vec<String>,
    /// How long the whole call took.
    pub wall_time: Duration,
}

impl StartAllReport {
    /// True if no start failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for StartAllReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "started {} states in {:.1} ms ({} failed, {} already realized)",
            self.started.len(),
            self.wall_time.as_secs_f64() * 1000.0,
            self.failed.len(),
            self.already_realized.len()
        )?;
        for (name, took) in &self.started {
            write!(f, "\n  {:>9.1} ms  {name}", took.as_secs_f64() * 1000.0)?;
        }
        for (name, error) in &self.failed {
            write!(f, "\n  failed  {name}: {error}")?;
        }
        Ok(())
    }
}

/// Realizes every [declared](crate::declared()) state concurrently: sync states on a bounded
/// set of threads, async ones driven on those threads by the library's executor (use
/// [`start_all_async`] when their starts need an async runtime). Each start waits only for
/// the states it reads, so the wall time is that of the longest dependency chain, not the
/// sum. A state starts once, a cycle is an error (for the states in it), a failed start does
/// not stop the others, and nothing that started is stopped: on a failed report, the caller
/// decides (for example with [`lifecycle::stop()`](crate::stop())).
///
/// ```
/// let report = lifecycle::start_all_where(|state| state.name().starts_with("docs::nothing"));
/// assert!(report.is_ok() && report.started.is_empty());
/// ```
pub fn start_all() -> StartAllReport {
    start_all_where(|_| true)
}

/// Like [`start_all`], for the declared states for which `pred` is true (a prefix of their
/// names, a `meta` tag). The states their starts read start too, as with `get`.
pub fn start_all_where(pred: impl Fn(&StateInfo) -> bool) -> StartAllReport {
    let began = Instant::now();
    let (todo, already) = pick(&pred);
    let outcomes = on_threads(&todo);
    report(&todo, outcomes, already, began)
}

/// [`start_all`] from async code: async states' starts are polled concurrently by the
/// returned future on the caller's executor; sync states start on a bounded set of threads
/// the future waits for without blocking.
///
/// ```
/// # lifecycle::__private::block_on(async {
/// let report = lifecycle::start_all_async_where(|s| s.name().starts_with("docs::none")).await;
/// assert!(report.is_ok());
/// # });
/// ```
pub async fn start_all_async() -> StartAllReport {
    start_all_async_where(|_| true).await
}

/// Like [`start_all_async`], for the declared states for which `pred` is true.
pub async fn start_all_async_where(pred: impl Fn(&StateInfo) -> bool) -> StartAllReport {
    let began = Instant::now();
    let (todo, already) = pick(&pred);
    let (asynchronous, synchronous): (Vec<_>, Vec<_>) = todo
        .iter()
        .copied()
        .enumerate()
        .partition(|(_, state)| state.is_async());
    let mut futures: Vec<BoxFuture<'static, Vec<Outcome>>> = Vec::new();
    if !synchronous.is_empty() {
        let (sync_at, synchronous): (Vec<usize>, Vec<Declaration>) =
            synchronous.into_iter().unzip();
        futures.push(Box::pin(async move {
            let outcomes = background::run(move || on_threads(&synchronous)).await;
            sync_at.into_iter().zip(outcomes).collect()
        }));
    }
    for (at, state) in asynchronous {
        let start = state.start_async();
        futures.push(Box::pin(async move { vec![(at, start.await)] }));
    }
    let mut outcomes: Vec<Outcome> = JoinAll(futures.into_iter().map(Some).collect(), Vec::new())
        .await
        .into_iter()
        .flatten()
        .collect();
    outcomes.sort_by_key(|(at, _)| *at);
    let outcomes = outcomes.into_iter().map(|(_, outcome)| outcome).collect();
    report(&todo, outcomes, already, began)
}

/// How the start of the state at an index of the list to start ended.
type Outcome = (usize, Result<(), Error>);

/// The declared states `pred` picks that are not realized yet, and the names of those that are.
fn pick(pred: &dyn Fn(&StateInfo) -> bool) -> (Vec<Declaration>, Vec<String>) {
    let (already, todo): (Vec<_>, Vec<_>) = declared()
        .into_iter()
        .filter(|state| pred(state.info()))
        .partition(Declaration::is_realized);
    let already = already.iter().map(|s| s.name().to_owned()).collect();
    (todo, already)
}

/// Starts `states` on at most [`MAX_THREADS`] threads; the outcomes are in `states`' order.
fn on_threads(states: &[Declaration]) -> Vec<Result<(), Error>> {
    let outcomes: Vec<Mutex<Option<Result<(), Error>>>> =
        states.iter().map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0..states.len());
    let take = || next.lock().unwrap_or_else(|e| e.into_inner()).next();
    std::thread::scope(|scope| {
        for _ in 0..states.len().min(MAX_THREADS) {
            scope.spawn(|| {
                while let Some(at) = take() {
                    let outcome = states[at].start();
                    *outcomes[at].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                }
            });
        }
    });
    outcomes
        .into_iter()
        .map(|slot| {
            let slot = slot.into_inner().unwrap_or_else(|e| e.into_inner());
            slot.unwrap_or(Ok(()))
        })
        .collect()
}

fn report(
    todo: &[Declaration],
    outcomes: Vec<Result<(), Error>>,
    already_realized: Vec<String>,
    began: Instant,
) -> StartAllReport {
    let timings: HashMap<String, StateInfo> = status()
        .into_iter()
        .map(|info| (info.name().to_owned(), info))
        .collect();
    let mut started = Vec::new();
    let mut failed = Vec::new();
    for (state, outcome) in todo.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                let info = timings.get(state.name());
                let at = info.and_then(StateInfo::started_at);
                let took = info.and_then(StateInfo::start_duration);
                started.push((at, state.name().to_owned(), took.unwrap_or_default()));
            }
            Err(error) => failed.push((state.name().to_owned(), error)),
        }
    }
    started.sort_by_key(|(at, _, _)| *at);
    StartAllReport {
        started: started
            .into_iter()
            .map(|(_, name, took)| (name, took))
            .collect(),
        failed,
        already_realized,
        wall_time: began.elapsed(),
    }
}

/// Polls every future until all are done (no executor of its own: the caller's polls it).
struct JoinAll<T>(Vec<Option<BoxFuture<'static, T>>>, Vec<T>);

impl<T> Unpin for JoinAll<T> {}

impl<T> Future for JoinAll<T> {
    type Output = Vec<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = &mut *self;
        for slot in &mut this.0 {
            if let Some(future) = slot {
                if let Poll::Ready(output) = future.as_mut().poll(cx) {
                    this.1.push(output);
                    *slot = None;
                }
            }
        }
        if this.0.iter().all(Option::is_none) {
            Poll::Ready(std::mem::take(&mut this.1))
        } else {
            Poll::Pending
        }
    }
}
