//! Bounded stops for `stop()`/`stop_where()`: one state whose stop never returns is reported
//! and skipped, and the other states still stop.
//!
//! Each state's stop runs on a worker thread while the caller waits with a deadline. A worker
//! that misses it is abandoned (it keeps the stuck stop and exits if that ever returns), the
//! stop it owns — by its ticket, handed over through a [`StopClaim`] — is marked failed, so
//! `get` reports it instead of waiting forever, and a fresh worker takes the next state. A
//! stop it never began (it was waiting behind another thread's stop) is cancelled instead;
//! another thread's stop is never touched. The caller's bindings are lent to the worker for
//! that one stop. A single `State::stop()` runs on the caller's thread instead.
//!
//! Imports `error`, `isolation` (to lend the bindings), `kernel` and `thread`; must not import
//! `global`, which runs its stops, or the drivers (`state`, `async_state`).

use crate::error::Error;
use crate::kernel::world::abandon_stop;
use crate::kernel::{Handle, StopClaim};
use crate::thread::{self, Key};
use std::cell::Cell;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

static WORKER: Mutex<Option<Sender<Job>>> = Mutex::new(None);

thread_local! {
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

fn spawn_worker() -> Option<Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("lifecycle-stop".into())
        .spawn(move || {
            IS_WORKER.with(|is| is.set(true));
            for job in queue {
                job();
            }
        })
        .ok()?;
    Some(jobs)
}

/// Stops `handle` (the state `key`) waiting at most `per_state` for its guards, giving up on
/// the whole stop after the backstop of `per_state`.
pub(crate) fn stop_bounded(key: Key, handle: Handle, per_state: Duration) -> Result<(), Error> {
    let limit = crate::kernel::backstop(per_state);
    // A stop function calling `stop()` runs on the worker already: nest inline.
    if IS_WORKER.with(Cell::get) {
        return handle.get().stop_claimed(&StopClaim::default(), per_state);
    }
    let name = handle.get().info().name().to_owned();
    let (done, result) = mpsc::sync_channel(1);
    let claim = Arc::new(StopClaim::default());
    let lent = thread::bindings();
    let job: Job = {
        let claim = Arc::clone(&claim);
        Box::new(move || {
            // The stop function sees the caller's bindings, on this thread only, and only
            // while it runs; what it starts under them is private to that one call (a scope
            // of its own, ended before the bindings are: see `crate::isolate`).
            let has_bindings = !lent.is_empty();
            let _lent = thread::lend(lent);
            let _scope = has_bindings.then(crate::isolation::scope::join);
            let _ = done.send(handle.get().stop_claimed(&claim, per_state));
        })
    };
    let mut worker = WORKER.lock().unwrap_or_else(PoisonError::into_inner);
    // A worker that is gone (never made, or abandoned) hands the job back.
    let unsent = match worker.as_ref() {
        Some(jobs) => jobs.send(job).err().map(|mpsc::SendError(job)| job),
        None => Some(job),
    };
    if let Some(job) = unsent {
        match spawn_worker() {
            Some(jobs) => {
                let _ = jobs.send(job);
                *worker = Some(jobs);
            }
            // No thread to be had: stop on this thread, unbounded.
            None => {
                drop(worker);
                job();
                return result.recv().unwrap_or(Ok(()));
            }
        }
    }
    let began = Instant::now();
    match result.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => {
            // Abandon the stuck worker; the next stop gets a fresh one.
            *worker = None;
            drop(worker);
            let waited = began.elapsed();
            abandon_stop(
                key,
                &claim,
                format!("its stop did not return within {waited:?}"),
            );
            Err(Error::StopTimedOut {
                state: name,
                waited,
            })
        }
    }
}
