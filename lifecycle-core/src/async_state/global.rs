//! [`stop_async`]: every tracked state, sync and async, stopped in one reverse order from
//! async code.
//!
//! Imports `error`, `exec`, `global` (the batches of the sync `stop()`), `info` and `kernel`;
//! must not import `diagnostics`, `stop_kind` or `private`, which are built on `async_state`.

use crate::error::{Error, StopReport};
use crate::info::StateInfo;
use crate::kernel::{backstop, stop_timeout};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Stops every active state — sync and async together — in reverse realization order, from
/// async code, giving each state at most [`stop_timeout`](crate::stop_timeout).
///
/// Like [`stop()`](crate::stop()), every state is tried even if some fail; the report names
/// what stopped and the error ([`Error::StopAll`]) lists every failure. Async states stop
/// without blocking the thread; a sync state's stop runs on the polling thread (it may sleep
/// while it waits for that state's guards).
///
/// ```
/// # lifecycle::__private::block_on(async {
/// let report = lifecycle::stop_async().await.unwrap();
/// println!("stopped {:?}", report.stopped);
/// # });
/// ```
pub async fn stop_async() -> Result<StopReport, Error> {
    stop_async_inner(&|_| true, stop_timeout()).await
}

/// Like [`stop_async`], giving each state at most `per_state`: that long for its guards to
/// be released, and (async states) that long again for its stop function, after which the
/// stop counts as failed and the next state is tried.
pub async fn stop_async_within(per_state: Duration) -> Result<StopReport, Error> {
    stop_async_inner(&|_| true, per_state).await
}

/// Like [`stop_async`], for the active states for which `pred` is true (a bucket of states,
/// for example by meta data).
pub async fn stop_async_where(
    pred: impl Fn(&StateInfo) -> bool + Send + Sync,
) -> Result<StopReport, Error> {
    stop_async_inner(&pred, stop_timeout()).await
}

async fn stop_async_inner(
    pred: &(dyn Fn(&StateInfo) -> bool + Send + Sync),
    per_state: Duration,
) -> Result<StopReport, Error> {
    let mut report = StopReport::default();
    let mut tried = HashSet::new();
    // A stop function may start states; pick those up too, but try each state once.
    loop {
        let batch = crate::global::next_batch(&tried, pred);
        if batch.is_empty() {
            return report.into_result();
        }
        for (key, handle) in batch {
            tried.insert(key);
            if crate::global::settled_here(key, &handle, &mut report) {
                continue;
            }
            let tracked = handle.get();
            let name = tracked.info().name().to_owned();
            // The state bounds its own waits; this backstop only catches a stop future that
            // never wakes its task.
            let backstop = backstop(per_state);
            let stop = tracked.stop_tracked_async(per_state);
            let outcome = match Instant::now().checked_add(backstop) {
                Some(deadline) => crate::exec::timeout_at(deadline, stop).await,
                None => Some(stop.await),
            };
            match outcome {
                Some(Ok(())) => report.stopped.push(name),
                Some(Err(error)) => report.failed.push((name, error)),
                None => {
                    let error = Error::Stop {
                        state: name.clone(),
                        source: format!("the stop did not finish within {backstop:?}").into(),
                    };
                    report.failed.push((name, error));
                }
            }
        }
    }
}
